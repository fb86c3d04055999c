/**
 * `deno task dev` as a newcomer runs it: every process comes up and answers
 * /healthz, the URL table is printed, a SIGKILLed service is restarted, and
 * Ctrl-C (SIGINT) stops everything. With `BOOKSTORE_STORE=etcd` it starts
 * three etcd members first and two queue replicas, an order is executed,
 * and the cluster page shows the members and the replicas; a missing `etcd`
 * or a cluster that does not answer stops it with one clear line.
 */
import assert from "node:assert/strict";
import { devTask } from "./support/dev_task.ts";
import { validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";
import { STORE_START_TIMEOUT_MS } from "@bookstore/dev/etcd";
import { V8_FLAGS } from "@bookstore/dev/topology";
import { bundleClient } from "../web/bundle.ts";

async function health(port: number): Promise<{ pid: number } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return response.ok ? await response.json() : undefined;
  } catch {
    return undefined;
  }
}

Deno.test("deno task dev runs, supervises and stops the whole system", async () => {
  // The first bundle on a machine fetches Deno's bundler, a download this test is not about and cannot time: done
  // here, before the clock starts, if no earlier test or `.ci/run` has done it yet.
  await bundleClient();
  const { command, args, ports, dataDir } = await devTask({ prefix: "bookstore-dev-" });
  for (const flag of V8_FLAGS) assert.ok(args.includes(flag), `the supervisor runs with ${flag}, as its children do`);
  const { web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, executors } = ports;
  const dev = command.spawn();
  let output = "";
  const reading = (async () => {
    for await (const chunk of dev.stdout.pipeThrough(new TextDecoderStream())) output += chunk;
  })();
  dev.stderr.pipeTo(new WritableStream({ write: (chunk) => void (output += new TextDecoder().decode(chunk)) }));
  const all = [web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, ...executors];
  try {
    await eventually(() => output.includes("The bookstore is up:"), { timeoutMs: 60_000, message: "the URL table" })
      .catch((error) => {
        throw new Error(`${error.message}; the output so far:\n${output.slice(-6000)}`);
      });
    for (const port of all) assert.ok(output.includes(`http://localhost:${port}`), `the table lists port ${port}`);
    for (const port of all) assert.ok(await health(port), `port ${port} answers /healthz`);

    const before = (await health(fraudDetection))!.pid;
    Deno.kill(before, "SIGKILL");
    const after = await eventually(async () => {
      const h = await health(fraudDetection);
      return h && h.pid !== before && h.pid;
    }, { message: "fraud_detection to be restarted" });
    assert.notEqual(after, before);
    assert.match(output, /fraud_detection exited \(signal SIGKILL\); restart #1/);

    const faults = await fetch(`http://127.0.0.1:${fraudDetection}/admin/faults`, { method: "POST", body: "{}" });
    await faults.body?.cancel();
    // Dev enables fault injection (the cluster page's buttons), but only for holders of the credential.
    assert.equal(faults.status, 401, "fault injection needs the service credential");

    const checkout = await fetch(`http://127.0.0.1:${orchestrator}/books?q=dune`);
    assert.equal(checkout.status, 200);
    await checkout.body?.cancel();
  } finally {
    dev.kill("SIGINT");
    const status = await dev.status;
    await reading;
    assert.equal(status.code, 0, output.slice(-2000));
    for (const port of all) assert.equal(await health(port), undefined, `port ${port} was released`);
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** How many keys the etcd cluster at `endpoint` holds under `prefix`. */
async function etcdKeys(endpoint: string, prefix: string): Promise<number> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const response = await fetch(`${endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: btoa(prefix), range_end: btoa(end), count_only: true }),
  });
  return Number((await response.json()).count ?? 0);
}

/** Runs `deno task dev` until it exits on its own (within `timeoutMs`), and returns its status and output. */
async function runToExit(task: Awaited<ReturnType<typeof devTask>>, timeoutMs: number) {
  const dev = task.command.spawn();
  const killer = setTimeout(() => dev.kill("SIGKILL"), timeoutMs);
  try {
    const [status, stdout, stderr] = await Promise.all([
      dev.status,
      new Response(dev.stdout).text(),
      new Response(dev.stderr).text(),
    ]);
    return { status, output: stdout + stderr };
  } finally {
    clearTimeout(killer);
    await Deno.remove(task.dataDir, { recursive: true });
  }
}

Deno.test("BOOKSTORE_STORE=etcd with no etcd program stops at once, saying what to install", async () => {
  const empty = await Deno.makeTempDir({ prefix: "bookstore-no-etcd-" });
  try {
    const task = await devTask({ prefix: "bookstore-dev-", store: "etcd", env: { PATH: empty } });
    const { status, output } = await runToExit(task, 60_000);
    assert.equal(status.code, 1, output);
    const said = output.split("\n").filter((line) => line.startsWith("deno task dev: "));
    assert.equal(said.length, 1, output);
    assert.match(said[0], /no `etcd` program on PATH: install it \(apt-get install etcd-server etcd-client\)/);
    assert.match(said[0], /or set BOOKSTORE_ETCD_ENDPOINTS/);
    assert.ok(!output.includes("The bookstore is up"));
    assert.ok(!output.includes("listening"), "no service was started");
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("BOOKSTORE_REPLICAS=2 without etcd stops at once, with one line naming both variables", async () => {
  const task = await devTask({ prefix: "bookstore-dev-", env: { BOOKSTORE_REPLICAS: "2" } });
  const { status, output } = await runToExit(task, 60_000);
  assert.equal(status.code, 1, output);
  const said = output.split("\n").filter((line) => line.startsWith("deno task dev: "));
  assert.equal(said.length, 1, output);
  assert.match(said[0], /BOOKSTORE_REPLICAS above 1 needs BOOKSTORE_STORE=etcd/);
  assert.ok(!output.includes("listening"), "no service was started");
});

Deno.test("an existing etcd cluster that does not answer stops dev within its deadline, naming the endpoints", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
  closed.close();
  const task = await devTask({
    prefix: "bookstore-dev-",
    env: { BOOKSTORE_STORE: "etcd", BOOKSTORE_ETCD_ENDPOINTS: endpoint, ORDER_QUEUE_REPLICAS: "1" },
  });
  const started = performance.now();
  // Deno's start-up on a loaded machine, the store's deadline, then one last round of calls.
  const { status, output } = await runToExit(task, STORE_START_TIMEOUT_MS + 50_000);
  const took = performance.now() - started;
  assert.equal(status.code, 1, output);
  assert.match(output, new RegExp(`deno task dev: the etcd cluster at ${endpoint} has no leader after \\d+ ms`));
  assert.ok(took >= STORE_START_TIMEOUT_MS, `it waited out the deadline (${Math.round(took)} ms)`);
  assert.ok(!output.includes("listening"), "no service was started");
});

Deno.test("BOOKSTORE_STORE=etcd deno task dev: three etcd members, two queue replicas, an order executed", async () => {
  await bundleClient();
  const task = await devTask({ prefix: "bookstore-dev-etcd-", store: "etcd" });
  const { ports, etcd } = task;
  const dev = task.command.spawn();
  let output = "";
  const reading = Promise.all([dev.stdout, dev.stderr].map(async (stream) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  }));
  try {
    await eventually(() => output.includes("The bookstore is up:"), { timeoutMs: 90_000, message: "the URL table" })
      .catch((error) => {
        throw new Error(`${error.message}; the output so far:\n${output.slice(-6000)}`);
      });
    const table = output.slice(output.indexOf("The bookstore is up:"));
    for (const [i, { client }] of etcd.entries()) {
      assert.match(table, new RegExp(`etcd${i + 1} +http://127\\.0\\.0\\.1:${client}\\n`), "a member's client URL");
    }
    for (const n of [1, 2]) {
      assert.match(table, new RegExp(`order_queue_${n} +http://localhost:${ports.orderQueue + n - 1}\\n`));
    }
    assert.match(table, /Store: +etcd, 3 members started here/);

    const placed = await fetch(`http://127.0.0.1:${ports.orchestrator}/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(validOrder()),
    });
    const answer = await placed.json();
    assert.equal(answer.status, "Order Approved", JSON.stringify(answer));
    await eventually(async () => {
      const view = await (await fetch(`http://127.0.0.1:${ports.orchestrator}/orders/${answer.orderId}`)).json();
      return view.status === "executed";
    }, { timeoutMs: 30_000, message: "the order to be executed" });

    const files = [...Deno.readDirSync(task.dataDir)].map((entry) => entry.name);
    assert.deepEqual(files.filter((name) => name.endsWith(".kv")), [], "no service kept its state in a Deno KV file");
    assert.ok(await etcdKeys(`http://127.0.0.1:${etcd[0].client}`, "bookstore/") > 0, "the services' state is in etcd");

    const page = await (await fetch(`http://127.0.0.1:${ports.web}/cluster`)).text();
    for (const n of [1, 2, 3]) assert.match(page, new RegExp(`data-member="etcd${n}"`), `etcd${n} on the page`);
    assert.equal([...page.matchAll(/data-etcd-leader="etcd\d"/g)].length, 1, "one member leads");
    assert.equal([...page.matchAll(/data-queue-replica="\d" data-role="up"/g)].length, 2, "both queue replicas up");
  } finally {
    dev.kill("SIGINT");
    const status = await dev.status;
    await reading;
    assert.equal(status.code, 0, output.slice(-3000));
    for (const { client, peer } of etcd) {
      for (const port of [client, peer]) {
        const listener = Deno.listen({ hostname: "127.0.0.1", port });
        listener.close();
      }
    }
    await Deno.remove(task.dataDir, { recursive: true });
  }
});
