/**
 * The cart: quantities, remove, subtotal, and the way to checkout. The cart
 * lives in the browser, so the page is the `cart_view` island.
 *
 * @module
 */
import CartView from "../islands/cart_view.tsx";

/** The cart page. */
export default function CartRoute() {
  return (
    <>
      <h1>Your cart</h1>
      <CartView />
    </>
  );
}
