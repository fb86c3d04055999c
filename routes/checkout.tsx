/**
 * Checkout: the seeds' form field for field, validated in the browser with
 * the same schema and checks the server runs, submitted to the
 * orchestrator's Connect method `bookstore.v1.CheckoutService/PlaceOrder`
 * straight from the browser, with an `Idempotency-Key`.
 *
 * @module
 */
import CheckoutForm from "../islands/checkout_form.tsx";
import type { PageProps } from "../web/fresh.ts";
import type { State } from "../utils/state.ts";

/** The checkout page. */
export default function CheckoutRoute({ state }: PageProps<undefined, State>) {
  return (
    <>
      <h1>Checkout</h1>
      <CheckoutForm
        orchestratorUrl={state.orchestratorPublicUrl}
        prices={Object.fromEntries(state.catalog.books.map((book) => [book.bookId, book.price]))}
      />
    </>
  );
}
