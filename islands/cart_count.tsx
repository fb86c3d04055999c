/**
 * The header's link to the cart, with how many books it holds.
 *
 * @module
 */
import { useEffect } from "preact/hooks";
import { cartCount, loadCart } from "../utils/cart.ts";

/** The cart link. */
export default function CartCount() {
  useEffect(() => loadCart(), []);
  return (
    <a href="/cart" class="cart-link">
      Cart <span class="badge">{cartCount.value}</span>
      <span class="visually-hidden">{cartCount.value === 1 ? " book" : " books"}</span>
    </a>
  );
}
