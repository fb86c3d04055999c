/**
 * `GET /orders/{id}/events`: the order's status as server-sent events, one
 * `order` event per change, until it is executed, failed or rejected.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";
import type { State } from "../../../utils/state.ts";
import type { Handlers } from "../../../web/fresh.ts";

/** How often the order is read while it is not finished. */
export const ORDER_POLL_MS = 250;

const FINAL = new Set(["executed", "failed", "rejected"]);

/** Streams the order's changes. */
export const handler: Handlers<never, State> = {
  GET(ctx) {
    return ctx.state.streams.open(ctx, async (send, signal) => {
      // Stops waiting, without an error, when the browser goes away.
      const pause = (ms: number) => delay(ms, { signal }).catch(() => {});
      let last = "";
      while (!signal.aborted) {
        let order;
        try {
          order = await ctx.state.shop.order(ctx.params.orderId);
        } catch {
          send("unavailable", { message: "The shop cannot read its orders right now." });
          await pause(ORDER_POLL_MS * 4);
          continue;
        }
        if (!order) {
          send("missing", { orderId: ctx.params.orderId });
          return;
        }
        const json = JSON.stringify(order);
        if (json !== last) send("order", order);
        last = json;
        if (FINAL.has(order.status)) return;
        await pause(ORDER_POLL_MS);
      }
    });
  },
};
