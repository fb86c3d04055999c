/**
 * An order: its status, updated live until it is executed (the
 * `order_status` island), its books (with the names they were ordered as),
 * and the space-time diagram of its validation across the services with
 * every event's vector clock.
 *
 * @module
 */
import { codedReasons, type OrderView } from "@bookstore/lib/contracts";
import { OrderBooks } from "../../components/order_books.tsx";
import { SpaceTimeDiagram } from "../../components/space_time_diagram.tsx";
import OrderStatus from "../../islands/order_status.tsx";
import { shopperReason } from "../../utils/reasons.ts";
import type { State } from "../../utils/state.ts";
import { type Handlers, HttpError, page, type PageProps } from "../../web/fresh.ts";

/** Reads the order from the orchestrator. */
export const handler: Handlers<OrderView, State> = {
  async GET(ctx) {
    let order: OrderView | undefined;
    try {
      order = await ctx.state.shop.order(ctx.params.orderId);
    } catch {
      throw new HttpError(503, "The shop cannot read its orders right now. Please try again in a moment.");
    }
    if (!order) throw new HttpError(404, `We have no order "${ctx.params.orderId}".`);
    return page(order);
  },
};

/** The order page. */
export default function OrderRoute({ data: order }: PageProps<OrderView, State>) {
  return (
    <article class="order">
      <h1>
        Order <code>{order.orderId}</code>
      </h1>
      <OrderStatus initial={order} />
      <section aria-labelledby="books-title">
        <h2 id="books-title">Books</h2>
        <OrderBooks items={order.items} resolvedNames={order.resolvedNames} />
      </section>
      {order.status === "rejected" && (
        <section aria-labelledby="reasons-title">
          <h2 id="reasons-title">Why it was rejected</h2>
          <ul class="reasons">{codedReasons(order).map((r, i) => <li key={i}>{shopperReason(r)}</li>)}</ul>
        </section>
      )}
      <section aria-labelledby="diagram-heading">
        <h2 id="diagram-heading">How it was validated</h2>
        <SpaceTimeDiagram events={order.events} approved={order.status !== "rejected"} />
      </section>
    </article>
  );
}
