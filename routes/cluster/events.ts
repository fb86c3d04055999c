/**
 * `GET /cluster/events`: the cluster as server-sent events, a `cluster`
 * event every time the watcher reads it, for as long as the page is open.
 *
 * @module
 */
import type { State } from "../../utils/state.ts";
import type { Handlers } from "../../web/fresh.ts";

/** Streams the cluster. */
export const handler: Handlers<never, State> = {
  GET(ctx) {
    return ctx.state.streams.open(ctx, (send, signal) =>
      new Promise<void>((resolve) => {
        const unsubscribe = ctx.state.cluster.subscribe((snapshot) => send("cluster", snapshot));
        signal.addEventListener("abort", () => {
          unsubscribe();
          resolve();
        }, { once: true });
      }));
  },
};
