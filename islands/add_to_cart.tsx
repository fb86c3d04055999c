/**
 * "Add to cart": puts one copy of a book in the cart and says so.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { addToCart, type CartBook, loadCart } from "../utils/cart.ts";

/** Props of {@linkcode AddToCart}. */
export interface AddToCartProps {
  /** The book to add. */
  book: CartBook;
  /** When the book cannot be bought (out of stock). */
  disabled?: boolean;
}

/** The button. */
export default function AddToCart({ book, disabled }: AddToCartProps) {
  const added = useSignal(false);
  useEffect(() => loadCart(), []);
  useEffect(() => {
    if (!added.value) return;
    const timer = setTimeout(() => added.value = false, 1500);
    return () => clearTimeout(timer);
  }, [added.value]);
  return (
    <button
      type="button"
      class="add"
      disabled={disabled}
      onClick={() => {
        addToCart(book);
        added.value = true;
      }}
    >
      {disabled ? "Out of stock" : added.value ? "Added ✓" : "Add to cart"}
      <span class="visually-hidden">: {book.title}</span>
    </button>
  );
}
