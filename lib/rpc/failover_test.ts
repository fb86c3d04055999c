/**
 * A client over a list of replicas, against replicas in memory behind a fake
 * network: it moves on from a replica it cannot reach, within the call's one
 * deadline; it stays with the replica that answered; an answer, even an
 * error, is never sent elsewhere; and a non-idempotent method moves on only
 * from a replica that cannot have received it.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { replicaNetwork } from "../../tests/support/replica_network.ts";
import { createLogger } from "../log.ts";
import { type ClientOptions, createClient } from "./client.ts";
import { defineService, method } from "./define.ts";
import { RpcError } from "./errors.ts";
import { createRpcRoutes } from "./server.ts";

const counter = defineService("bookstore.v1.CounterService", {
  methods: {
    Get: method(z.object({}), { output: z.object({ replica: z.number(), count: z.number() }), idempotent: true }),
    // Not idempotent: every call counts one more.
    Add: method(z.object({}), { output: z.object({ replica: z.number(), count: z.number() }), idempotent: false }),
  },
});

const TOKEN = "a-service-token-0123";
const URLS = ["http://127.0.0.1:50055", "http://127.0.0.1:50056", "http://127.0.0.1:50057"];
const [ONE, TWO, THREE] = URLS;

/**
 * Three replicas of a counter on one shared count (as queue replicas share one store); `answer` lets a test make a
 * replica answer an error instead.
 */
function replicas() {
  const shared = { count: 0 };
  const answers = new Map<number, () => never>();
  const apps = Object.fromEntries(URLS.map((url, i) => {
    const replica = i + 1;
    const routes = createRpcRoutes(counter, {
      token: TOKEN,
      log: createLogger("test", { write: () => {} }),
      maxBodyBytes: 1024,
      handlers: {
        Get: () => answers.get(replica)?.() ?? { replica, count: shared.count },
        Add: () => answers.get(replica)?.() ?? { replica, count: ++shared.count },
      },
    });
    return [url, (input: string, init?: RequestInit) => routes.request(input, init)];
  }));
  const network = replicaNetwork(apps);
  const client = (options: Partial<ClientOptions> = {}) =>
    createClient(counter, {
      baseUrl: URLS,
      peer: "counter",
      token: TOKEN,
      timeoutMs: 2000,
      retries: 0,
      breaker: false,
      fetch: network.fetch,
      ...options,
    });
  return { shared, network, client, answers, asked: () => network.requests.map((r) => r.origin) };
}

Deno.test("a replica that refuses the connection: the call moves to the next, and later calls stay there", async () => {
  const { network, client, asked } = replicas();
  const counter = client();
  network.set(ONE, "refuse");
  assert.equal((await counter.Get({})).replica, 2);
  assert.deepEqual(asked(), [ONE, TWO]);
  network.set(ONE, undefined);
  assert.equal((await counter.Get({})).replica, 2, "the replica that answered, though the first is back");
  assert.deepEqual(asked(), [ONE, TWO, TWO]);
  network.set(TWO, "refuse");
  assert.equal((await counter.Get({})).replica, 3, "from the one that stopped answering, on along the list");
  network.set(TWO, undefined);
  network.set(THREE, "refuse");
  assert.equal((await counter.Get({})).replica, 1, "and round to the first");
  assert.deepEqual(asked(), [ONE, TWO, TWO, TWO, THREE, THREE, ONE]);
});

Deno.test("concurrent calls: the next call starts at the replica that answered last", async () => {
  const { network, client, asked } = replicas();
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  let held = false;
  // Call A's first request waits at the gate; call B runs meanwhile.
  const fetch = async (input: string, init?: RequestInit) => {
    if (!held) {
      held = true;
      await gate;
    }
    return await network.fetch(input, init);
  };
  const counter = client({ fetch });
  network.set(ONE, "refuse");
  network.set(TWO, "refuse");
  const a = counter.Get({});
  assert.equal((await counter.Get({})).replica, 3, "B: past 1 and 2, to 3");
  network.set(TWO, undefined);
  release();
  assert.equal((await a).replica, 2, "A, which set out before B moved on, found 2 back");
  assert.equal((await counter.Get({})).replica, 2, "the last to answer");
  assert.deepEqual(asked().slice(-1), [TWO]);
});

Deno.test("every replica refusing: unavailable, naming every URL tried and why", async () => {
  const { network, client, asked } = replicas();
  for (const url of URLS) network.set(url, "refuse");
  const error: RpcError = await client().Get({}).catch((e) => e);
  assert.equal(error.code, "unavailable");
  for (const url of URLS) assert.match(error.message, new RegExp(`${url} \\(client error \\(Connect\\)`));
  assert.deepEqual(asked(), URLS, "each once");
});

Deno.test("one deadline covers every replica an attempt tries, and each is told the time left", async () => {
  const { network, client } = replicas();
  const slowRefusal = 150;
  // Replica 1's connection takes a while to be refused; replica 2 then never answers.
  const fetch = async (input: string, init?: RequestInit) => {
    if (input.startsWith(ONE)) await new Promise((resolve) => setTimeout(resolve, slowRefusal));
    return await network.fetch(input, init);
  };
  network.set(ONE, "refuse");
  network.set(TWO, "hang");
  const started = performance.now();
  const error: RpcError = await client({ fetch, timeoutMs: 400 }).Get({}).catch((e) => e);
  const took = performance.now() - started;
  assert.equal(error.code, "deadline_exceeded");
  assert.match(error.message, /within 400 ms at http:\/\/127\.0\.0\.1:50056/);
  assert.ok(took < 400 + 200, `the attempt took ${took.toFixed(0)} ms on a 400 ms deadline`);
  const [first, second] = network.requests;
  const whole = Number(first.headers.get("connect-timeout-ms"));
  assert.ok(whole > 400 - 50 && whole <= 400, `replica 1 was given ${whole} ms of the 400`);
  const left = Number(second.headers.get("connect-timeout-ms"));
  assert.ok(left <= 400 - slowRefusal + 20, `replica 2 was given ${left} ms of the 400`);
  assert.deepEqual(network.requests.map((r) => r.origin), [ONE, TWO], "the hung replica was not left for another");
});

Deno.test("a caller's deadline covers its retries and every replica they try", async () => {
  const { network, client } = replicas();
  for (const url of URLS) network.set(url, "hang");
  const started = performance.now();
  const error: RpcError = await client({ retries: 5, timeoutMs: 100 }).Get({}, { deadline: Date.now() + 250 }).catch((
    e,
  ) => e);
  const took = performance.now() - started;
  assert.equal(error.code, "deadline_exceeded");
  assert.ok(took < 250 + 200, `the call took ${took.toFixed(0)} ms on a 250 ms budget`);
  assert.ok(network.requests.length >= 2, "a replica that timed out is not where the retry went");
  assert.notEqual(network.requests[1].origin, network.requests[0].origin);
});

Deno.test("a replica that answers an error has answered: the call does not move on", async () => {
  const { client, answers, asked } = replicas();
  answers.set(1, () => {
    throw new RpcError("not_found", "no such counter");
  });
  const counter = client();
  await assert.rejects(() => counter.Get({}), (e: RpcError) => e.code === "not_found");
  await assert.rejects(() => counter.Get({}), (e: RpcError) => e.code === "not_found");
  assert.deepEqual(asked(), [ONE, ONE], "the replica that answered is still the one asked");
});

Deno.test("a replica answering unavailable (its store unreachable) answers this attempt; the retry and later calls start at the next", async () => {
  const { client, answers, asked } = replicas();
  answers.set(1, () => {
    throw new RpcError("unavailable", "the store is unreachable");
  });
  const once = client({ retries: 0 });
  await assert.rejects(() => once.Get({}), (e: RpcError) => e.code === "unavailable" && /store/.test(e.message));
  assert.deepEqual(asked(), [ONE], "not sent elsewhere in the same attempt");
  assert.equal((await once.Get({})).replica, 2, "the next call starts at the next replica");
  const retrying = client({ retries: 1 });
  assert.equal((await retrying.Get({})).replica, 2, "the retry of an idempotent call goes to the next replica");
  assert.deepEqual(asked(), [ONE, TWO, ONE, TWO]);
});

Deno.test("a non-idempotent call moves on from a refused connection, never from one cut after it was sent", async () => {
  const { shared, network, client, asked } = replicas();
  const counter = client();
  network.set(ONE, "refuse");
  assert.deepEqual(await counter.Add({}), { replica: 2, count: 1 }, "refused: replica 1 cannot have counted it");
  network.set(TWO, "cut");
  const error: RpcError = await counter.Add({}).catch((e) => e);
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /not idempotent and may have arrived, so no further replica was tried/);
  assert.equal(shared.count, 2, "replica 2 counted it; nobody counted it twice");
  assert.deepEqual(asked(), [ONE, TWO, TWO]);
  network.set(TWO, undefined);
  assert.equal((await counter.Add({})).replica, 3, "the next call starts past the replica that was cut");
});

Deno.test("an idempotent call cut after it was sent moves on: its repetition is harmless", async () => {
  const { network, client, asked } = replicas();
  network.set(ONE, "cut");
  assert.equal((await client().Get({})).replica, 2);
  assert.deepEqual(asked(), [ONE, TWO]);
});

Deno.test("a replica that hangs costs the attempt; the next starts at the next replica", async () => {
  const { network, client, asked } = replicas();
  network.set(ONE, "hang");
  const counter = client({ timeoutMs: 100 });
  await assert.rejects(() => counter.Get({}), (e: RpcError) => e.code === "deadline_exceeded");
  assert.equal((await counter.Get({})).replica, 2);
  assert.deepEqual(asked(), [ONE, TWO]);
});

Deno.test("a replica whose answer breaks off while it is read has not answered: an idempotent call moves on", async () => {
  const { network, client, asked } = replicas();
  const fetch = async (input: string, init?: RequestInit) => {
    const response = await network.fetch(input, init);
    if (!input.startsWith(ONE)) return response;
    await response.body?.cancel();
    const broken = new ReadableStream({ pull: (controller) => controller.error(new TypeError("connection reset")) });
    return new Response(broken, { status: 200, headers: { "content-type": "application/json" } });
  };
  assert.equal((await client({ fetch }).Get({})).replica, 2);
  assert.deepEqual(asked(), [ONE, TWO]);
});

Deno.test("one base URL works as before, and names the URL it could not reach", async () => {
  const { network, client } = replicas();
  network.set(ONE, "refuse");
  const error: RpcError = await client({ baseUrl: `${ONE}/` }).Get({}).catch((e) => e);
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /^counter is unreachable at http:\/\/127\.0\.0\.1:50055 \(client error \(Connect\)/);
  assert.throws(() => client({ baseUrl: [] }), /at least one base URL/);
});
