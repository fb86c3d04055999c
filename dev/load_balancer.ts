/**
 * HAProxy in front of the instances of the orchestrator and of the web app
 * when more than one of each runs: its configuration text and the process
 * that runs it. HAProxy 2.6 from Debian (`apt-get install haproxy`).
 *
 * Choices, and why:
 * - **roundrobin.** Requests are short and alike (a checkout, a page, a
 *   status poll), so taking turns spreads them evenly and predictably; the
 *   web app's event streams are long but cheap (each waits on the store) and
 *   spread the same way as they open. `leastconn` would send every new
 *   request to an instance that just came back (it has no connections yet).
 * - **Health.** `GET /healthz` every {@linkcode HEALTH_CHECK}`.interMs`; two
 *   failures take an instance out of rotation (about a second after it died),
 *   two successes bring it back.
 * - **Retries on connect failures only.** A connection to a dead instance is
 *   refused before anything was sent, so it is retried on another instance
 *   (`option redispatch`). A request that reached an instance is never sent
 *   again: a checkout is not idempotent without its key, so a client whose
 *   instance died mid-request gets a 502 and decides itself. For that, each
 *   client connection carries one request (`option httpclose`): on a
 *   keep-alive connection HAProxy would close it silently instead, and the
 *   client would resend the request on a new one (see the comment there).
 * - **Streaming.** HAProxy forwards a response as it arrives (no compression,
 *   no buffering is configured); the idle timeouts are longer than the event
 *   streams' heartbeat, so a quiet stream is not cut.
 * - **Its own health.** A frontend of its own on `health`, answering
 *   `/healthz` (the load balancer runs) and `/stats` (HAProxy's read-only
 *   status page; `/stats;csv` for programs). Not on the public frontends: a
 *   `/healthz` there is the instances'.
 * - **Logs** go to stdout at `notice`: instances going down and up, not
 *   every request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { haproxyConfig } from "./load_balancer.ts";
 * const text = haproxyConfig({
 *   health: { host: "127.0.0.1", port: 8404 },
 *   frontends: [{
 *     name: "web",
 *     bind: { host: "127.0.0.1", port: 8000 },
 *     backends: [{ name: "web_1", host: "127.0.0.1", port: 8100 }, { name: "web_2", host: "127.0.0.1", port: 8200 }],
 *   }],
 * });
 * assert.match(text, /server web_2 127\.0\.0\.1:8200 check/);
 * ```
 *
 * @module
 */
import { z } from "zod";
import type { CommandProcessSpec } from "./topology.ts";

/** The program the load balancer runs (Debian's `haproxy` package installs it). */
export const HAPROXY_COMMAND = "haproxy";

/** The one line that says what to do when the `haproxy` program is missing. */
export const HAPROXY_MISSING =
  `more than one instance runs behind a load balancer, but there is no \`${HAPROXY_COMMAND}\` ` +
  "program: install it (apt-get install haproxy)";

// Debian installs HAProxy in /usr/sbin, which is not on a user's PATH: the shell that runs it looks there too.
function shellArgs(script: string, ...args: string[]): string[] {
  return ["-c", `PATH="$PATH:/usr/local/sbin:/usr/sbin"; ${script}`, "load_balancer", ...args];
}

/** The version the `haproxy` program says it is (`2.6.12-1+deb12u4`); throws {@linkcode HAPROXY_MISSING} without one. */
export async function haproxyVersion(): Promise<string> {
  const output = await new Deno.Command("sh", {
    args: shellArgs(`command -v ${HAPROXY_COMMAND} >/dev/null || exit 127; exec ${HAPROXY_COMMAND} -v`),
    stdin: "null",
  }).output();
  if (output.code === 127) throw new Error(HAPROXY_MISSING);
  const text = new TextDecoder().decode(output.stdout);
  const version = /HAProxy version (\S+)/.exec(text)?.[1];
  if (!output.success || version === undefined) {
    throw new Error(`\`${HAPROXY_COMMAND} -v\` did not say its version: ${text.trim().slice(0, 200)}`);
  }
  return version;
}

/** How often and how strictly instances are checked. */
export const HEALTH_CHECK = {
  /** Interval between checks of an instance. */
  interMs: 500,
  /** Failed checks in a row that take an instance out of rotation. */
  fall: 2,
  /** Passed checks in a row that bring it back. */
  rise: 2,
  /** A check unanswered this long failed (a paused instance accepts connections and answers nothing). */
  timeoutMs: 1000,
  /** The path checked on every instance, and the load balancer's own. */
  path: "/healthz",
} as const;

/**
 * Idle time after which a connection is cut, either side. Longer than the
 * web app's event stream heartbeat (15 s), so a quiet stream stays open;
 * `dev/load_balancer_test.ts` holds the two together.
 */
export const IDLE_TIMEOUT_MS = 60_000;

// Every address is an IPv4 loopback literal: nothing the load balancer binds or forwards to may leave the machine,
// and a literal is what HAProxy uses without resolving it.
const loopback = z.string().regex(
  /^127\.(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){2}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  "must be an IPv4 address in 127.0.0.0/8",
);
const port = z.number().int().min(1).max(65_535);
// HAProxy's names: letters, digits and `_.:-`.
const name = z.string().regex(/^[A-Za-z0-9_.:-]+$/, "must be letters, digits, '_', '.', ':' or '-'");
const address = z.object({ host: loopback, port });

const backendSchema = z.object({ name, ...address.shape });
const frontendSchema = z.object({
  name,
  bind: address,
  backends: z.array(backendSchema).min(1),
  /**
   * A request header whose value picks the instance (a consistent hash of it), so that requests carrying the same
   * value reach the same instance while it is up; requests without it take turns.
   */
  stickyHeader: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/).optional(),
  /** The address the load balancer connects to the instances from (what they trust to name the client). */
  source: loopback.optional(),
});

/** The load balancer's configuration: its public frontends, each with its instances, and its own health address. */
export const loadBalancerSchema = z.object({
  /** Where the load balancer answers `/healthz` and `/stats` itself. */
  health: address,
  /** One per public port. */
  frontends: z.array(frontendSchema).min(1),
}).superRefine((value, ctx) => {
  const names = [
    ...value.frontends.map((f) => f.name),
    ...value.frontends.flatMap((f) => f.backends.map((b) => b.name)),
  ];
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) ctx.addIssue({ code: "custom", message: `name ${duplicate} is used twice` });
  const binds = [value.health, ...value.frontends.map((f) => f.bind)].map(({ host, port }) => `${host}:${port}`);
  const taken = binds.find((b, i) => binds.indexOf(b) !== i);
  if (taken) ctx.addIssue({ code: "custom", message: `${taken} is bound twice` });
});

/** One instance behind a frontend. */
export type Backend = z.infer<typeof backendSchema>;
/** One public port and the instances behind it. */
export type Frontend = z.infer<typeof frontendSchema>;
/** The input of {@linkcode haproxyConfig}. */
export type LoadBalancerOptions = z.input<typeof loadBalancerSchema>;

/** The `haproxy.cfg` text for `options` (checked first: addresses in 127.0.0.0/8, names unique, ports bound once). */
export function haproxyConfig(options: LoadBalancerOptions): string {
  const { health, frontends } = loadBalancerSchema.parse(options);
  const lines = [
    "# Written by dev/load_balancer.ts for each start; edits are lost.",
    "global",
    "  log stdout format raw local0 notice",
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    "  log global",
    "  option dontlognull",
    "  option forwardfor",
    // A connection refused is retried on another instance; nothing that reached one is sent again.
    "  retries 2",
    "  retry-on conn-failure",
    "  option redispatch 1",
    // HAProxy answers a server's death on a keep-alive request (not the first of its client connection) by closing
    // the client connection without a word, so that the client resends it, and browsers and fetch do, POSTs too:
    // to another instance. One request per client connection makes every request a first one, answered 502.
    "  option httpclose",
    "  timeout connect 2s",
    "  timeout http-request 10s",
    "  timeout queue 5s",
    `  timeout client ${IDLE_TIMEOUT_MS}ms`,
    `  timeout server ${IDLE_TIMEOUT_MS}ms`,
    `  timeout tunnel ${IDLE_TIMEOUT_MS}ms`,
    `  timeout check ${HEALTH_CHECK.timeoutMs}ms`,
    `  default-server inter ${HEALTH_CHECK.interMs}ms fastinter ${HEALTH_CHECK.interMs / 2}ms` +
    ` downinter ${HEALTH_CHECK.interMs}ms fall ${HEALTH_CHECK.fall} rise ${HEALTH_CHECK.rise}`,
    "",
    "frontend load_balancer",
    `  bind ${health.host}:${health.port}`,
    `  http-request return status 200 content-type text/plain string ok if { path ${HEALTH_CHECK.path} }`,
    "  stats enable",
    "  stats uri /stats",
    '  http-request return status 404 content-type text/plain string "not found" unless { path_beg /stats }',
    ...frontends.flatMap((frontend) => [
      "",
      `listen ${frontend.name}`,
      `  bind ${frontend.bind.host}:${frontend.bind.port}`,
      ...(frontend.stickyHeader === undefined
        ? ["  balance roundrobin"]
        : [`  balance hdr(${frontend.stickyHeader})`, "  hash-type consistent"]),
      ...(frontend.source === undefined ? [] : [`  source ${frontend.source}`]),
      "  option httpchk",
      `  http-check send meth GET uri ${HEALTH_CHECK.path} ver HTTP/1.1 hdr host ${frontend.bind.host}:${frontend.bind.port}`,
      "  http-check expect status 200",
      ...frontend.backends.map((backend) => `  server ${backend.name} ${backend.host}:${backend.port} check`),
    ]),
  ];
  return `${lines.join("\n")}\n`;
}

/** Options for {@linkcode loadBalancerSpec}. */
export interface LoadBalancerSpecOptions {
  /** What to balance, and where the load balancer answers its own health. */
  config: LoadBalancerOptions;
  /** The data directory: the configuration is written to `<dataDir>/load_balancer/haproxy.cfg`. */
  dataDir: string;
  /** The process's name. @default "load_balancer" */
  name?: string;
}

/**
 * The process that runs HAProxy for `options.config`, for the supervisor
 * (its health is {@linkcode HEALTH_CHECK}`.path` on the health port).
 *
 * The configuration travels in the spec's arguments, and a shell writes it
 * to the data directory and then becomes HAProxy (`exec`, so the
 * supervisor's signals reach HAProxy itself). So the spec is the whole
 * truth, as every other spec is: nothing needs to be written before the
 * supervisor starts it, and each restart runs what the spec says. HAProxy
 * runs as one foreground process (`-db`, no `-W` master): the supervisor is
 * the master, and no worker can outlive a killed one.
 */
export function loadBalancerSpec(options: LoadBalancerSpecOptions): CommandProcessSpec {
  const text = haproxyConfig(options.config);
  const file = `${options.dataDir}/load_balancer/haproxy.cfg`;
  const health = loadBalancerSchema.parse(options.config).health;
  return {
    name: options.name ?? "load_balancer",
    command: "sh",
    args: shellArgs(
      `mkdir -p "$(dirname "$2")" && printf '%s' "$1" > "$2" && exec ${HAPROXY_COMMAND} -db -f "$2"`,
      text,
      file,
    ),
    port: health.port,
    env: {},
    healthPath: HEALTH_CHECK.path,
  };
}
