import assert from "node:assert/strict";
import { delay } from "@bookstore/lib/async";
import { EventStreams, type Producer, type StreamContext } from "./sse.ts";
import { eventually } from "../tests/support/wait.ts";

/** A request from `address`, in memory. */
function from(address: string, signal?: AbortSignal): StreamContext {
  return {
    req: new Request("http://localhost:8000/cluster/events", { signal }),
    info: { remoteAddr: { transport: "tcp", hostname: address, port: 40000 }, completed: Promise.resolve() },
  };
}

/** A producer with nothing to say, until its stream ends. */
const idle: Producer = (_send, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve()));

/** Reads `response` until its text matches `pattern`; throws after `ms`. */
async function readUntil(response: Response, pattern: RegExp, ms = 5000): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = AbortSignal.timeout(ms);
  const timedOut = new Promise<never>((_, reject) =>
    deadline.addEventListener("abort", () => reject(new Error(`no ${pattern} within ${ms} ms`)))
  );
  let text = "";
  try {
    while (!pattern.test(text)) {
      const { value, done } = await Promise.race([reader.read(), timedOut]);
      if (done) throw new Error(`the stream ended without ${pattern}: ${JSON.stringify(text)}`);
      text += value;
    }
    return text;
  } finally {
    await reader.cancel();
  }
}

Deno.test("a stream writes named events and ends when its producer returns", async () => {
  const streams = new EventStreams();
  const response = streams.open(from("127.0.0.11"), (send) => {
    send("order", { status: "queued" });
    send("order", { status: "executed" });
    return Promise.resolve();
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(
    await response.text(),
    'retry: 1000\n\nevent: order\ndata: {"status":"queued"}\n\nevent: order\ndata: {"status":"executed"}\n\n',
  );
  await eventually(() => streams.count() === 0, { timeoutMs: 2000, message: "the stream's slot to be freed" });
});

Deno.test("a stream nobody reads is ended, its backlog dropped, once the unsent bytes reach its budget", async () => {
  const budget = 64 * 1024;
  const streams = new EventStreams({ maxBacklogBytes: budget });
  const event = "x".repeat(1000);
  let sent = 0;
  let aborted = false;
  const response = streams.open(from("127.0.0.11"), (send, signal) => {
    // Far more than the budget, all at once: nothing reads in between.
    for (let i = 0; i < 1000 && !signal.aborted; i++) {
      send("tick", event);
      sent += 1;
    }
    aborted = signal.aborted;
    return Promise.resolve();
  });
  await eventually(() => streams.count() === 0, { timeoutMs: 2000, message: "the stream to end" });
  const size = `event: tick\ndata: "${event}"\n\n`.length;
  assert.ok(aborted, `the producer was stopped (it sent ${sent} events of ${size} bytes, budget ${budget} bytes)`);
  assert.ok(Math.abs(sent * size - budget) <= size, `stopped at the budget: ${sent * size} bytes`);
  await assert.rejects(response.text(), "the stream errored, so the browser reconnects instead of reading on");
});

Deno.test("a reader that keeps up is never cut off, however much the stream sends", async () => {
  const budget = 16 * 1024;
  const streams = new EventStreams({ maxBacklogBytes: budget });
  const event = "x".repeat(1000);
  const response = streams.open(from("127.0.0.11"), async (send, signal) => {
    for (let i = 0; i < 200 && !signal.aborted; i++) {
      send("tick", event);
      // A pause now and then lets the reader take what was sent.
      if (i % 4 === 3) await delay(0);
    }
  });
  const text = await response.text();
  assert.equal(text.match(/event: tick/g)?.length, 200, "every event arrived: 200 KB through a 16 KB budget");
});

Deno.test("past the caps a client gets 429, everyone 503, with Retry-After; a closed stream frees its slot", async () => {
  const streams = new EventStreams({ perClient: 2, total: 3, retryAfterSeconds: 7 });
  const open: Response[] = [];
  try {
    for (let i = 0; i < 2; i++) open.push(streams.open(from("127.0.0.11"), idle));
    assert.ok(open.every((r) => r.status === 200));
    const tooMany = streams.open(from("127.0.0.11"), idle);
    assert.equal(tooMany.status, 429);
    assert.equal(tooMany.headers.get("retry-after"), "7");
    assert.match(await tooMany.text(), /at most 2 live updates at once from one address/);
    assert.equal(streams.count("127.0.0.11"), 2);

    open.push(streams.open(from("127.0.0.12"), idle));
    assert.equal(open[2].status, 200, "another address has its own allowance");
    const full = streams.open(from("127.0.0.13"), idle);
    assert.equal(full.status, 503);
    assert.equal(full.headers.get("retry-after"), "7");
    await full.body?.cancel();
    assert.equal(streams.count(), 3);

    await open.shift()!.body!.cancel();
    await eventually(() => streams.count("127.0.0.11") === 1, { timeoutMs: 2000, message: "the slot to be freed" });
    open.push(streams.open(from("127.0.0.11"), idle));
    assert.equal(open.at(-1)!.status, 200, "the client may open another");
  } finally {
    await Promise.all(open.map((r) => r.body?.cancel()));
  }
  await eventually(() => streams.count() === 0, { timeoutMs: 2000, message: "every slot to be freed" });
});

Deno.test("a stream with nothing to say writes a heartbeat comment on an interval", async () => {
  const streams = new EventStreams({ heartbeatMs: 20 });
  const response = streams.open(from("127.0.0.11"), idle);
  const text = await readUntil(response, /: heartbeat\n\n: heartbeat\n\n/);
  assert.ok(text.startsWith("retry: 1000\n\n"), text);
  await eventually(() => streams.count() === 0, { timeoutMs: 2000, message: "the stream to end with its reader" });
});

Deno.test("the browser going away stops the producer and frees the slot", async () => {
  const streams = new EventStreams();
  const browser = new AbortController();
  let stopped = false;
  const response = streams.open(from("127.0.0.11", browser.signal), async (send, signal) => {
    send("hello", {});
    await idle(send, signal);
    stopped = true;
  });
  await readUntil(response, /event: hello/);
  browser.abort();
  await eventually(() => stopped && streams.count() === 0, { timeoutMs: 2000, message: "the producer to stop" });
});

Deno.test("over a real socket, a client that never reads costs a bounded backlog and keeps its slot until it leaves", async () => {
  const streams = new EventStreams();
  let sent = 0;
  let stopped = false;
  const chunk = "x".repeat(16 * 1024);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req, info) =>
      streams.open({ req, info }, async (send, signal) => {
        while (!signal.aborted) {
          send("tick", chunk);
          sent += chunk.length;
          await delay(1, { signal }).catch(() => {});
        }
        stopped = true;
      }),
  );
  const socket = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await socket.write(new TextEncoder().encode("GET /cluster/events HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    // Socket buffers take a few MiB first; then the stream's own budget fills and the stream is ended.
    await eventually(() => stopped, { timeoutMs: 20_000, message: "the stream to be ended for its backlog" });
    assert.ok(sent < 64 * 1024 * 1024, `it stopped after ${(sent / 2 ** 20).toFixed(1)} MiB`);
    assert.equal(streams.count("127.0.0.1"), 1, "the stuck connection still counts against its client");
  } finally {
    socket.close();
  }
  await eventually(() => streams.count() === 0, {
    timeoutMs: 5000,
    message: "the slot to be freed once the client left",
  });
  await server.shutdown();
});
