/**
 * `GET /cluster/events`: the cluster as server-sent events, a `cluster`
 * event every time the watcher reads it, for as long as the page is open.
 *
 * @module
 */
import type { State } from "../../utils/state.ts";
import type { Handlers } from "../../web/fresh.ts";
import { eventStream } from "../../web/sse.ts";

/** Streams the cluster. */
export const handler: Handlers<never, State> = {
  GET(ctx) {
    const signal = ctx.req.signal;
    return eventStream(signal, (send) =>
      new Promise<void>((resolve) => {
        const unsubscribe = ctx.state.cluster.subscribe((snapshot) => send("cluster", snapshot));
        signal.addEventListener("abort", () => {
          unsubscribe();
          resolve();
        }, { once: true });
      }));
  },
};
