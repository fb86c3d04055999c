/**
 * `GET /api/orders/{id}`: the order as JSON, for browsers that cannot use
 * server-sent events (the order page polls it then). Only for the shop's own pages (`requireShopOrigin`).
 *
 * @module
 */
import { requireShopOrigin } from "../../../utils/admin.ts";
import type { State } from "../../../utils/state.ts";
import type { Handlers } from "../../../web/fresh.ts";

/** Answers the order's view. */
export const handler: Handlers<never, State> = {
  async GET(ctx) {
    requireShopOrigin(ctx);
    try {
      const order = await ctx.state.shop.order(ctx.params.orderId);
      return order ? Response.json(order) : Response.json({ error: "no such order" }, { status: 404 });
    } catch {
      return Response.json({ error: "the shop cannot read its orders right now" }, { status: 503 });
    }
  },
};
