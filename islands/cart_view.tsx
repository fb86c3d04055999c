/**
 * The cart's lines with quantities and remove buttons, the subtotal, and the
 * link to checkout; an empty cart says so.
 *
 * @module
 */
import { useEffect } from "preact/hooks";
import {
  cart,
  cartLoaded,
  cartSubtotal,
  formatPrice,
  loadCart,
  MAX_QUANTITY,
  removeFromCart,
  setQuantity,
} from "../utils/cart.ts";

/** The cart. */
export default function CartView() {
  useEffect(() => loadCart(), []);
  if (!cartLoaded.value) return <p class="loading" aria-live="polite">Loading your cart…</p>;
  if (cart.value.length === 0) {
    return (
      <p class="empty">
        Your cart is empty. <a href="/">Browse the books</a>.
      </p>
    );
  }
  return (
    <section class="cart">
      <table>
        <caption class="visually-hidden">Books in your cart</caption>
        <thead>
          <tr>
            <th scope="col">Book</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">
              <span class="visually-hidden">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {cart.value.map((line) => (
            <tr key={line.bookId} data-book-id={line.bookId}>
              <td>
                <a href={`/books/${line.bookId}`}>{line.title}</a>
                <div class="author">{line.author}</div>
              </td>
              <td>{formatPrice(line.price)}</td>
              <td>
                <input
                  type="number"
                  min={1}
                  max={MAX_QUANTITY}
                  value={line.quantity}
                  aria-label={`Quantity of ${line.title}`}
                  onChange={(event) => setQuantity(line.bookId, Number(event.currentTarget.value) || 1)}
                />
              </td>
              <td>
                <button type="button" class="link" onClick={() => removeFromCart(line.bookId)}>
                  Remove<span class="visually-hidden">{line.title}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="subtotal">
        Subtotal: <strong>{formatPrice(cartSubtotal.value)}</strong>
      </p>
      <p>
        <a class="button primary" href="/checkout">Proceed to checkout</a>
      </p>
    </section>
  );
}
