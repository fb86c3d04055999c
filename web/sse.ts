/**
 * Server-sent events: a response that streams named events until the
 * producer ends or the browser goes away, within bounds a client cannot
 * push past.
 *
 * - **Backlog.** What the client has not taken yet waits in the stream's
 *   queue, measured in bytes. A client that stops reading (or reads too
 *   slowly) lets it grow by every event; at {@linkcode STREAM_LIMITS}'s
 *   `maxBacklogBytes` the stream is ended and its queue dropped. A browser's
 *   `EventSource` reconnects by itself and starts afresh.
 * - **Count.** At most `perClient` streams at once from one address (the TCP
 *   peer's, never a header the client chose), answered 429 past it, and at
 *   most `total` in all, answered 503; both with `Retry-After`. A stream
 *   counts until its connection is done, not merely until it stops writing.
 * - **Heartbeat.** A comment line every `heartbeatMs`, so a stream with
 *   nothing to say still writes, and a peer that vanished without closing
 *   its connection is found by the failed write.
 *
 * @module
 */

/** Sends one event to the browser. */
export type SendEvent = (event: string, data: unknown) => void;

/** Writes the events of one stream until it returns or `signal` aborts (the browser left, or the stream ended). */
export type Producer = (send: SendEvent, signal: AbortSignal) => Promise<void>;

/** The bounds of the web app's event streams. */
export const STREAM_LIMITS = {
  /** Bytes written to a stream that its client has not taken yet; at this the stream is ended. */
  maxBacklogBytes: 1024 * 1024,
  /** Streams open at once from one client address; past it 429. */
  perClient: 8,
  /** Streams open at once in all; past it 503. */
  total: 128,
  /** How often a stream writes a comment line when it has nothing else to say. */
  heartbeatMs: 15_000,
  /** What a refused client is told to wait, in seconds. */
  retryAfterSeconds: 5,
} as const;

/** Options for {@linkcode EventStreams}; each defaults to {@linkcode STREAM_LIMITS}. */
export interface EventStreamsOptions {
  /** Unsent bytes that end a stream. */
  maxBacklogBytes?: number;
  /** Streams at once from one address. */
  perClient?: number;
  /** Streams at once in all. */
  total?: number;
  /** Interval of the heartbeat comment. */
  heartbeatMs?: number;
  /** `Retry-After` of a refusal, in seconds. */
  retryAfterSeconds?: number;
}

/** What a stream needs of its request (a route's `ctx` is one). */
export interface StreamContext {
  /** The request: its signal aborts when the browser goes away. */
  req: Request;
  /** The connection: whose address the stream counts against, and when it is done. */
  info: Deno.ServeHandlerInfo<Deno.NetAddr>;
}

// Deno prints a stream's error reason when it drops the connection: one line, not an Error's stack.
const OVERFLOW = "event stream ended: its client left more unread than the stream's backlog budget";

/**
 * Every event stream of the web app, counted against the caps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventStreams } from "./sse.ts";
 *
 * const streams = new EventStreams({ perClient: 1 });
 * const ctx = {
 *   req: new Request("http://localhost/events"),
 *   info: { remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.11", port: 1 }, completed: Promise.resolve() },
 * };
 * const response = streams.open(ctx, async (send) => send("hello", { n: 1 }));
 * assert.match(await response.text(), /event: hello\ndata: \{"n":1\}/);
 * ```
 */
export class EventStreams {
  readonly #limits: Required<EventStreamsOptions>;
  readonly #byClient = new Map<string, number>();
  #total = 0;

  /** Streams within `options`' bounds. */
  constructor(options: EventStreamsOptions = {}) {
    this.#limits = { ...STREAM_LIMITS, ...options };
  }

  /** Streams open now, in all or from one client address. */
  count(client?: string): number {
    return client === undefined ? this.#total : this.#byClient.get(client) ?? 0;
  }

  /**
   * Answers `ctx` with a `text/event-stream` of what `produce` sends, or
   * with 429 or 503 and `Retry-After` when the client or the web app has as
   * many streams open as it may.
   */
  open(ctx: StreamContext, produce: Producer): Response {
    const client = ctx.info.remoteAddr.hostname;
    const limits = this.#limits;
    if (this.count(client) >= limits.perClient) {
      return this.#refuse(429, `at most ${limits.perClient} live updates at once from one address`);
    }
    if (this.#total >= limits.total) return this.#refuse(503, "the shop is sending as many live updates as it can");
    this.#byClient.set(client, this.count(client) + 1);
    this.#total += 1;
    const ended = Promise.withResolvers<void>();
    // The slot is free once the stream has ended and its connection is done with (or given up).
    Promise.allSettled([ended.promise, ctx.info.completed]).then(() => {
      this.#total -= 1;
      const left = this.count(client) - 1;
      if (left > 0) this.#byClient.set(client, left);
      else this.#byClient.delete(client);
    });
    return stream(ctx.req.signal, { produce, limits, ended: ended.resolve });
  }

  #refuse(status: 429 | 503, message: string): Response {
    const retryAfter = String(this.#limits.retryAfterSeconds);
    return new Response(`${message}; retry after ${retryAfter} s\n`, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", "retry-after": retryAfter, "cache-control": "no-store" },
    });
  }
}

interface StreamOptions {
  produce: Producer;
  limits: Required<EventStreamsOptions>;
  ended: () => void;
}

function stream(requestSignal: AbortSignal, options: StreamOptions): Response {
  const { produce, limits } = options;
  const encoder = new TextEncoder();
  // Aborts the producer whichever way the stream ends.
  const stop = new AbortController();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => void (controller = c),
    cancel: () => finish(),
  }, new ByteLengthQueuingStrategy({ highWaterMark: limits.maxBacklogBytes }));

  const write = (text: string) => {
    if (stop.signal.aborted) return;
    controller.enqueue(encoder.encode(text));
    // The queue holds what the client has not taken: the HTTP layer takes more only as the socket drains.
    if ((controller.desiredSize ?? 0) <= 0) finish(true);
  };
  const send: SendEvent = (event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const heartbeat = setInterval(() => write(": heartbeat\n\n"), limits.heartbeatMs);
  const onAbort = () => finish();
  function finish(overflow = false) {
    if (stop.signal.aborted) return;
    stop.abort();
    clearInterval(heartbeat);
    requestSignal.removeEventListener("abort", onAbort);
    try {
      // An error drops the queued backlog at once; a close would keep it until the client read it.
      if (overflow) controller.error(OVERFLOW);
      else controller.close();
    } catch {
      // Already cancelled by the browser.
    }
    options.ended();
  }

  requestSignal.addEventListener("abort", onAbort, { once: true });
  // Tells the browser how long to wait before reconnecting.
  write("retry: 1000\n\n");
  if (requestSignal.aborted) finish();
  if (!stop.signal.aborted) {
    (async () => await produce(send, stop.signal))()
      .catch((error) => {
        if (!stop.signal.aborted) send("error", { message: (error as Error).message });
      })
      .finally(() => finish());
  }
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
