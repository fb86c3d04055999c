import assert from "node:assert/strict";
import { STREAM_LIMITS } from "../web/sse.ts";
import {
  haproxyConfig,
  HEALTH_CHECK,
  IDLE_TIMEOUT_MS,
  type LoadBalancerOptions,
  loadBalancerSpec,
} from "./load_balancer.ts";

const options: LoadBalancerOptions = {
  health: { host: "127.0.0.1", port: 8404 },
  frontends: [
    {
      name: "web",
      bind: { host: "127.0.0.1", port: 8000 },
      backends: [{ name: "web_1", host: "127.0.0.1", port: 8100 }, { name: "web_2", host: "127.0.0.2", port: 8200 }],
    },
    {
      name: "orchestrator",
      bind: { host: "127.0.0.1", port: 8081 },
      backends: [
        { name: "orchestrator_1", host: "127.0.0.1", port: 8181 },
        { name: "orchestrator_2", host: "127.0.0.3", port: 8281 },
      ],
    },
  ],
};

/** The lines of one section (`listen web`, `defaults`…) of a configuration text, trimmed. */
function section(text: string, header: string): string[] {
  const sections = text.split(/\n(?=\S)/);
  const found = sections.find((s) => s.split("\n")[0] === header);
  assert.ok(found, `section ${header}`);
  return found.split("\n").slice(1).map((line) => line.trim()).filter(Boolean);
}

Deno.test("haproxyConfig: one section per frontend, bound on its port, with every backend checked", () => {
  const text = haproxyConfig(options);
  for (const frontend of options.frontends) {
    const lines = section(text, `listen ${frontend.name}`);
    assert.ok(lines.includes(`bind ${frontend.bind.host}:${frontend.bind.port}`), `${frontend.name} bind`);
    const servers = lines.filter((line) => line.startsWith("server "));
    assert.deepEqual(
      servers,
      frontend.backends.map((b) => `server ${b.name} ${b.host}:${b.port} check`),
      `${frontend.name} servers`,
    );
    assert.ok(lines.includes("option httpchk"));
    assert.ok(lines.some((line) => line.startsWith(`http-check send meth GET uri ${HEALTH_CHECK.path} `)));
    assert.ok(lines.includes("http-check expect status 200"));
    assert.ok(lines.includes("balance roundrobin"));
  }
});

Deno.test("haproxyConfig: fast checks, and only connect failures retried on another instance", () => {
  const defaults = section(haproxyConfig(options), "defaults");
  const server = defaults.find((line) => line.startsWith("default-server "));
  assert.ok(server);
  assert.match(server, new RegExp(` inter ${HEALTH_CHECK.interMs}ms `));
  assert.match(server, new RegExp(` fall ${HEALTH_CHECK.fall}( |$)`));
  assert.match(server, new RegExp(` rise ${HEALTH_CHECK.rise}( |$)`));
  // Out of rotation about a second after an instance died.
  assert.ok(HEALTH_CHECK.interMs * HEALTH_CHECK.fall <= 1500);
  assert.ok(defaults.includes(`timeout check ${HEALTH_CHECK.timeoutMs}ms`));
  assert.deepEqual(defaults.filter((line) => line.startsWith("retry-on ")), ["retry-on conn-failure"]);
  assert.ok(defaults.includes("option redispatch 1"));
  assert.ok(defaults.includes("option httpclose"), "a request that reached a dead instance is answered 502");
  assert.ok(!/http-buffer-request|compression/.test(haproxyConfig(options)), "nothing buffers a stream");
});

Deno.test("haproxyConfig: a quiet event stream outlives no idle timeout shorter than two heartbeats", () => {
  assert.ok(IDLE_TIMEOUT_MS >= 2 * STREAM_LIMITS.heartbeatMs);
  const defaults = section(haproxyConfig(options), "defaults");
  for (const side of ["client", "server"]) assert.ok(defaults.includes(`timeout ${side} ${IDLE_TIMEOUT_MS}ms`), side);
});

Deno.test("haproxyConfig: the load balancer's own health and stats are on a frontend of their own", () => {
  const text = haproxyConfig(options);
  const lines = section(text, "frontend load_balancer");
  assert.ok(lines.includes("bind 127.0.0.1:8404"));
  assert.ok(
    lines.some((line) => line.startsWith("http-request return status 200 ") && line.includes(HEALTH_CHECK.path)),
  );
  assert.ok(!/monitor-uri/.test(text), "no public frontend answers /healthz for its instances");
  assert.ok(section(text, "global").includes("log stdout format raw local0 notice"));
});

Deno.test("haproxyConfig: every address in the text is in 127.0.0.0/8", () => {
  const addresses = haproxyConfig(options).match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? [];
  assert.equal(addresses.length, 9, "three binds, four servers, two check Host headers");
  for (const address of addresses) assert.match(address, /^127\./);
});

Deno.test("haproxyConfig: refuses an address outside 127.0.0.0/8, a repeated name or a port bound twice", () => {
  const withHost = (host: string): LoadBalancerOptions => ({
    ...options,
    frontends: [{ ...options.frontends[0], backends: [{ name: "x", host, port: 1 }] }],
  });
  for (const host of ["0.0.0.0", "localhost", "127.0.0.256", "127.0.0", "::1", "127.0.0.1 check"]) {
    assert.throws(() => haproxyConfig(withHost(host)), /127\.0\.0\.0\/8/, host);
  }
  assert.throws(
    () => haproxyConfig({ ...options, health: { host: "0.0.0.0", port: 8404 } }),
    /127\.0\.0\.0\/8/,
  );
  assert.throws(
    () => haproxyConfig({ ...options, frontends: [options.frontends[0], { ...options.frontends[1], name: "web" }] }),
    /name web is used twice/,
  );
  assert.throws(
    () => haproxyConfig({ ...options, health: { host: "127.0.0.1", port: 8000 } }),
    /127\.0\.0\.1:8000 is bound twice/,
  );
  assert.throws(() => haproxyConfig({ ...options, frontends: [{ ...options.frontends[0], backends: [] }] }));
});

Deno.test("loadBalancerSpec: runs haproxy in the foreground on the configuration it writes under the data dir", () => {
  const spec = loadBalancerSpec({ config: options, dataDir: "/tmp/data" });
  assert.equal(spec.name, "load_balancer");
  assert.equal(spec.port, 8404);
  assert.equal(spec.healthPath, HEALTH_CHECK.path);
  assert.equal(spec.command, "sh");
  const [flag, script, , text, file] = spec.args;
  assert.equal(flag, "-c");
  assert.match(script, /exec haproxy -db -f "\$2"$/);
  assert.match(script, /^PATH="\$PATH:[^"]*\/usr\/sbin"; /, "found where Debian installs it");
  assert.equal(text, haproxyConfig(options));
  assert.equal(file, "/tmp/data/load_balancer/haproxy.cfg");
});

Deno.test("haproxyConfig: a sticky header picks the instance by a consistent hash; a source address is connected from", () => {
  const text = haproxyConfig({
    health: { host: "127.0.0.1", port: 8404 },
    frontends: [{
      name: "orchestrator",
      bind: { host: "127.0.0.1", port: 8081 },
      backends: [{ name: "orchestrator_1", host: "127.0.0.1", port: 8181 }],
      stickyHeader: "Idempotency-Key",
      source: "127.0.0.2",
    }, {
      name: "web",
      bind: { host: "127.0.0.1", port: 8000 },
      backends: [{ name: "web_1", host: "127.0.0.1", port: 8100 }],
    }],
  });
  const [orchestrator, web] = text.split("listen ").slice(1);
  assert.ok(
    orchestrator.includes("\n  balance hdr(Idempotency-Key)\n  hash-type consistent\n  source 127.0.0.2\n"),
    orchestrator,
  );
  assert.ok(web.includes("\n  balance roundrobin\n"), web);
  assert.doesNotMatch(web, /source/);
  assert.throws(() =>
    haproxyConfig({
      health: { host: "127.0.0.1", port: 8404 },
      frontends: [{
        name: "web",
        bind: { host: "127.0.0.1", port: 8000 },
        backends: [{ name: "web_1", host: "127.0.0.1", port: 8100 }],
        stickyHeader: "a b",
      }],
    })
  );
});
