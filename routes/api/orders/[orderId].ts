/**
 * `GET /api/orders/{id}`: the order as JSON, for browsers that cannot use
 * server-sent events (the order page polls it then). Only for the shop's own pages (`routes/api/_middleware.ts`).
 *
 * @module
 */
import type { State } from "../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../web/fresh.ts";

/** Answers the order's view. */
export const handler: Handlers<never, State> = {
  async GET(ctx) {
    let order;
    try {
      order = await ctx.state.shop.order(ctx.params.orderId);
    } catch (error) {
      throw new HttpError(503, "the shop cannot read its orders right now", { cause: error });
    }
    if (!order) throw new HttpError(404, "no such order");
    return Response.json(order);
  },
};
