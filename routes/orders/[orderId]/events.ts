/**
 * `GET /orders/{id}/events`: the order's status as server-sent events, one
 * `order` event per change, until it is executed, failed or rejected.
 *
 * @module
 */
import type { State } from "../../../utils/state.ts";
import type { Handlers } from "../../../web/fresh.ts";
import { eventStream } from "../../../web/sse.ts";
import { delay } from "../../../utils/delay.ts";

/** How often the order is read while it is not finished. */
export const ORDER_POLL_MS = 250;

const FINAL = new Set(["executed", "failed", "rejected"]);

/** Streams the order's changes. */
export const handler: Handlers<never, State> = {
  GET(ctx) {
    const signal = ctx.req.signal;
    return eventStream(signal, async (send) => {
      let last = "";
      while (!signal.aborted) {
        let order;
        try {
          order = await ctx.state.shop.order(ctx.params.orderId);
        } catch {
          send("unavailable", { message: "The shop cannot read its orders right now." });
          await delay(ORDER_POLL_MS * 4, { signal });
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
        await delay(ORDER_POLL_MS, { signal });
      }
    });
  },
};
