/**
 * Server-sent events: a response that streams named events until the
 * producer ends or the browser goes away.
 *
 * @module
 */

/** Sends one event to the browser. */
export type SendEvent = (event: string, data: unknown) => void;

/**
 * Streams what `produce` sends as `text/event-stream`; stops when it returns
 * or when `signal` (the request's) aborts.
 *
 * @example
 * ```ts
 * import { eventStream } from "./sse.ts";
 * const response = eventStream(new AbortController().signal, async (send) => send("hello", { n: 1 }));
 * ```
 */
export function eventStream(
  signal: AbortSignal,
  produce: (send: SendEvent, signal: AbortSignal) => Promise<void>,
): Response {
  const encoder = new TextEncoder();
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const close = () => {
        if (closed) return;
        closed = true;
        try {
          controller.close();
        } catch {
          // Already closed by the browser.
        }
      };
      signal.addEventListener("abort", close, { once: true });
      const send: SendEvent = (event, data) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      };
      try {
        // Tells the browser how long to wait before reconnecting.
        controller.enqueue(encoder.encode("retry: 1000\n\n"));
        await produce(send, signal);
      } catch (error) {
        if (!signal.aborted) send("error", { message: (error as Error).message });
      } finally {
        close();
      }
    },
    cancel() {
      closed = true;
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
