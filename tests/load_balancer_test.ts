/**
 * The load balancer for real: Debian's HAProxy, run by the supervisor from
 * `loadBalancerSpec`, in front of two tiny instances (`support/tiny_server.ts`)
 * on free ports. Skipped, saying so, where `haproxy` is not installed.
 */
import assert from "node:assert/strict";
import { haproxyVersion, type LoadBalancerOptions, loadBalancerSpec } from "@bookstore/dev/load_balancer";
import { Supervisor } from "@bookstore/dev/supervisor";
import type { ProcessSpec } from "@bookstore/dev/topology";
import { freePorts } from "@bookstore/lib/free_ports";
import { ROOT } from "./support/buf.ts";
import { eventually } from "./support/wait.ts";

const haveHaproxy = await haproxyVersion().then(() => true, (error: Error) => {
  console.log(`load balancer tests skipped: ${error.message}`);
  return false;
});

const [portA, portB, publicPort, healthPort] = freePorts(4);
const INSTANCES = { a: portA, b: portB } as const;
type Instance = keyof typeof INSTANCES;
const HOST = "127.0.0.1";

function instanceSpec(name: Instance): ProcessSpec {
  const port = INSTANCES[name];
  return { name, entry: "tests/support/tiny_server.ts", port, env: { TINY_NAME: name, TINY_PORT: String(port) } };
}

const config: LoadBalancerOptions = {
  health: { host: HOST, port: healthPort },
  frontends: [{
    name: "shop",
    bind: { host: HOST, port: publicPort },
    backends: (Object.keys(INSTANCES) as Instance[]).map((name) => ({ name, host: HOST, port: INSTANCES[name] })),
  }],
};

async function text(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

const viaLb = (path: string, init?: RequestInit) => text(`http://${HOST}:${publicPort}${path}`, init);
const direct = (name: Instance, path: string, init?: RequestInit) =>
  text(`http://${HOST}:${INSTANCES[name]}${path}`, init);

/** Whether HAProxy sends requests to `name` now, from its status page (`UP`, or `UP 1/2` while going down). */
async function inRotation(name: Instance): Promise<boolean> {
  const { body } = await text(`http://${HOST}:${healthPort}/stats;csv`);
  const [header, ...rows] = body.split("\n").map((line) => line.replace(/^# /, "").split(","));
  const row = rows.find((r) => r[header.indexOf("pxname")] === "shop" && r[header.indexOf("svname")] === name);
  assert.ok(row, `stats row of ${name}`);
  // "UP 1/2": failed a check, still in rotation; "DOWN 1/2": passed one, still out; anything else is not checked.
  const status = row[header.indexOf("status")];
  assert.match(status, /^(UP|DOWN)( \d+\/\d+)?$/, `${name} is health-checked`);
  return status.startsWith("UP");
}

Deno.test({
  name: "load balancer: HAProxy spreads, fails over, readmits, streams, and never resends a request",
  ignore: !haveHaproxy,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "bookstore-lb-" });
  const lb = loadBalancerSpec({ config, dataDir });
  const supervisor = new Supervisor([instanceSpec("a"), instanceSpec("b"), lb], { root: ROOT, restart: false });
  try {
    supervisor.start();
    await supervisor.waitHealthy({ timeoutMs: 60_000 });

    await t.step("HAProxy accepts the configuration written under the data dir", async () => {
      const file = `${dataDir}/load_balancer/haproxy.cfg`;
      const check = await new Deno.Command("sh", {
        args: ["-c", 'PATH="$PATH:/usr/sbin"; exec haproxy -c -q -f "$1"', "check", file],
      }).output();
      assert.ok(check.success, new TextDecoder().decode(check.stderr));
      assert.equal((await text(`http://${HOST}:${healthPort}/elsewhere`)).status, 404);
    });

    await t.step("requests are spread over both instances", async () => {
      // An instance that HAProxy checked before it listened is out of rotation until it passes two checks.
      await eventually(async () => await inRotation("a") && await inRotation("b"), {
        timeoutMs: 10_000,
        message: "both instances in rotation",
      });
      const answers: string[] = [];
      for (let i = 0; i < 10; i++) {
        const { status, body } = await viaLb("/whoami");
        assert.equal(status, 200);
        answers.push(body);
      }
      for (const name of ["a", "b"]) assert.ok(answers.filter((a) => a === name).length >= 3, answers.join(","));
    });

    await t.step("an instance stopped: every request still succeeds, and it leaves rotation", async () => {
      await supervisor.stop("b", "SIGKILL");
      await assert.rejects(direct("b", "/healthz"), "b is gone");
      const stoppedAt = Date.now();
      // Requests sent before the health checks noticed are retried on a: a refused connection sent nothing.
      let left = 0;
      while (!left) {
        const { status, body } = await viaLb("/whoami");
        assert.equal(status, 200);
        assert.equal(body, "a");
        if (!(await inRotation("b"))) left = Date.now() - stoppedAt;
      }
      assert.ok(left < 3_000, `b left rotation after ${left} ms`);
      for (let i = 0; i < 6; i++) assert.deepEqual(await viaLb("/whoami"), { status: 200, body: "a" });
    });

    await t.step("brought back, it rejoins", async () => {
      supervisor.start(["b"]);
      await supervisor.waitHealthy({ timeoutMs: 30_000, names: ["b"] });
      await eventually(() => inRotation("b"), { timeoutMs: 10_000, message: "b back in rotation" });
      // HAProxy may send a few requests in a row to an instance that comes back, to even the count out.
      const answers: string[] = [];
      while (!answers.includes("b") && answers.length < 10) {
        const { status, body } = await viaLb("/whoami");
        assert.equal(status, 200);
        answers.push(body);
      }
      assert.ok(answers.includes("b"), `b answers again: ${answers.join(",")}`);
    });

    await t.step("an event stream passes through one event at a time", async () => {
      const response = await fetch(`http://${HOST}:${publicPort}/events`, { signal: AbortSignal.timeout(20_000) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let received = "";
      // The instance sends the second event only once released: the first one has to arrive on its own.
      while (!received.includes("data: 1\n\n")) {
        const { value, done } = await reader.read();
        assert.ok(!done, "the stream ended before its first event came through");
        received += value;
      }
      assert.ok(!received.includes("data: 2"));
      await Promise.all(
        (Object.keys(INSTANCES) as Instance[]).map((name) => direct(name, "/release", { method: "POST" })),
      );
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received += value;
      }
      assert.equal(received, "data: 1\n\ndata: 2\n\n");
    });

    await t.step("a POST whose instance died mid-request is not sent to the other", async () => {
      const { status } = await viaLb("/die", { method: "POST", body: "{}" });
      assert.equal(status, 502);
      const died = (Object.keys(INSTANCES) as Instance[]).filter((name) => supervisor.lines(name).includes("dying"));
      assert.equal(died.length, 1, `exactly one instance got the POST: ${died.join(",")}`);
      const survivor: Instance = died[0] === "a" ? "b" : "a";
      const { body } = await direct(survivor, "/seen");
      assert.ok(!body.split("\n").includes("POST /die"), `${survivor} saw the POST again:\n${body}`);
    });
  } finally {
    await supervisor.stopAll();
    await Deno.remove(dataDir, { recursive: true });
  }
});
