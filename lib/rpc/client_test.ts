/**
 * The client's deadlines and circuit breaker against a fake peer (a `fetch`
 * function): a caller's budget bounds every wait, its end is never held
 * against the peer, and the peer is told only the time the caller has left.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createClient, type Fetch, wasNotSent } from "./client.ts";
import { defineService, method } from "./define.ts";
import type { RpcError } from "./errors.ts";

const stock = defineService("bookstore.v1.StockService", {
  methods: {
    Get: method(z.object({ bookId: z.string() }), { output: z.object({ stock: z.number() }), idempotent: true }),
  },
});

/** A peer that answers through `answer`, or hangs until released (or the request is aborted). */
function fakePeer() {
  const seen: Headers[] = [];
  let answer: () => Response | "hang" = () => Response.json({ stock: 3 });
  let release = () => {};
  const fetch: Fetch = (_url, init) => {
    seen.push(new Headers(init?.headers));
    const result = answer();
    if (result !== "hang") return result;
    return new Promise<Response>((resolve, reject) => {
      const previous = release;
      release = () => {
        previous();
        resolve(Response.json({ stock: 3 }));
      };
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true });
    });
  };
  return {
    fetch,
    seen,
    answerWith(next: () => Response | "hang") {
      answer = next;
    },
    release: () => release(),
  };
}

const unavailable = () => Response.json({ code: "unavailable", message: "down" }, { status: 503 });

Deno.test("a caller waiting behind a half-open trial stops at its own deadline", async () => {
  const peer = fakePeer();
  const client = createClient(stock, {
    baseUrl: "http://stock.test",
    peer: "stock",
    timeoutMs: 5000,
    retries: 0,
    breaker: { threshold: 1, halfOpenAfterMs: 0 },
    fetch: peer.fetch,
  });
  peer.answerWith(unavailable);
  await assert.rejects(() => client.Get({ bookId: "dune" }), (e: RpcError) => e.code === "unavailable");
  // The circuit is open; the next call is the half-open trial, and the peer takes 1.5 s to answer it.
  peer.answerWith(() => "hang");
  const trial = client.Get({ bookId: "dune" });
  const slowPeer = setTimeout(() => peer.release(), 1500);
  const started = performance.now();
  await assert.rejects(
    () => client.Get({ bookId: "dune" }, { signal: AbortSignal.timeout(100) }),
    (e: RpcError) => e.code === "deadline_exceeded" && /caller's deadline/.test(e.message),
  );
  await assert.rejects(
    () => client.Get({ bookId: "dune" }, { deadline: Date.now() + 100 }),
    (e: RpcError) => e.code === "deadline_exceeded" && /caller's deadline/.test(e.message),
  );
  const waited = performance.now() - started;
  clearTimeout(slowPeer);
  peer.release();
  await trial;
  assert.ok(waited < 1000, `two callers waited ${waited.toFixed(0)} ms on 100 ms budgets`);
});

Deno.test("a caller's own deadline running out does not open the circuit against a healthy peer", async () => {
  const peer = fakePeer();
  const client = createClient(stock, {
    baseUrl: "http://stock.test",
    peer: "stock",
    timeoutMs: 5000,
    breaker: { threshold: 2, halfOpenAfterMs: 60_000 },
    fetch: peer.fetch,
  });
  peer.answerWith(() => "hang");
  for (let i = 0; i < 3; i++) {
    await assert.rejects(
      () => client.Get({ bookId: "dune" }, { signal: AbortSignal.timeout(20) }),
      (e: RpcError) => e.code === "deadline_exceeded",
    );
    await assert.rejects(
      () => client.Get({ bookId: "dune" }, { deadline: Date.now() + 20 }),
      (e: RpcError) => e.code === "deadline_exceeded",
    );
  }
  const caller = new AbortController();
  const cancelled = client.Get({ bookId: "dune" }, { signal: caller.signal });
  caller.abort();
  await assert.rejects(() => cancelled, (e: RpcError) => e.code === "canceled");
  peer.release();
  peer.answerWith(() => Response.json({ stock: 3 }));
  assert.deepEqual(await client.Get({ bookId: "dune" }), { stock: 3 }, "the circuit is still closed");
});

Deno.test("Connect-Timeout-Ms is the time the caller has left, not the whole per-call timeout", async () => {
  const peer = fakePeer();
  const client = createClient(stock, {
    baseUrl: "http://stock.test",
    peer: "stock",
    timeoutMs: 1000,
    fetch: peer.fetch,
  });
  await client.Get({ bookId: "dune" }, { deadline: Date.now() + 200 });
  const sent = Number(peer.seen.at(-1)!.get("connect-timeout-ms"));
  assert.ok(sent > 0 && sent <= 200, `sent ${sent} ms with 200 ms left`);
  await client.Get({ bookId: "dune" });
  assert.equal(peer.seen.at(-1)!.get("connect-timeout-ms"), "1000", "without a budget, the per-call timeout");
});

Deno.test("a call refused by the open circuit is known not to have been sent; a failed one that went out is not", async () => {
  const peer = fakePeer();
  const client = createClient(stock, {
    baseUrl: "http://stock.test",
    peer: "stock",
    timeoutMs: 1000,
    retries: 0,
    breaker: { threshold: 1, halfOpenAfterMs: 60_000 },
    fetch: peer.fetch,
  });
  peer.answerWith(unavailable);
  const sent = await client.Get({ bookId: "dune" }).catch((error) => error);
  assert.equal(sent.code, "unavailable");
  assert.equal(wasNotSent(sent), false, "it went out: its effect is unknown");
  const requests = peer.seen.length;
  const refused = await client.Get({ bookId: "dune" }).catch((error) => error);
  assert.match(refused.message, /circuit open/);
  assert.equal(wasNotSent(refused), true);
  assert.equal(peer.seen.length, requests, "nothing was sent");
});
