/**
 * The shopping cart, shared by every island on the page through signals and
 * kept in the browser's `localStorage` (books and quantities only; card data
 * is never stored anywhere). Other tabs see changes through `storage` events.
 *
 * @module
 */
import { computed, signal } from "@preact/signals";
import { z } from "zod";

/** Largest quantity of one book, as transaction verification allows. */
export const MAX_QUANTITY = 50;

/** One line of the cart. */
export const cartLineSchema = z.object({
  bookId: z.string().min(1).max(128),
  title: z.string().max(300),
  author: z.string().max(200),
  price: z.number().nonnegative(),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
});

/** One line of the cart. */
export type CartLine = z.infer<typeof cartLineSchema>;

/** A book as the cart needs it. */
export type CartBook = Omit<CartLine, "quantity">;

const STORAGE_KEY = "bookstore.cart.v1";

/** The cart's lines, empty until {@linkcode loadCart} ran in the browser. */
export const cart = signal<CartLine[]>([]);

/** How many books the cart holds. */
export const cartCount = computed(() => cart.value.reduce((sum, line) => sum + line.quantity, 0));

/** The cart's total price. */
export const cartSubtotal = computed(() => cart.value.reduce((sum, line) => sum + line.price * line.quantity, 0));

/** Whether the cart was read from storage (false while server-rendered and before hydration). */
export const cartLoaded = signal(false);

function read(): CartLine[] {
  try {
    const parsed = z.array(cartLineSchema).safeParse(JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "[]"));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

function write(lines: CartLine[]) {
  cart.value = lines;
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(lines));
  } catch {
    // Storage full or disabled: the cart still works for this page.
  }
}

/** Reads the cart from storage once per page and follows other tabs; call it from an island's effect. */
export function loadCart(): void {
  if (cartLoaded.value) return;
  cart.value = read();
  cartLoaded.value = true;
  addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY) cart.value = read();
  });
}

/** Adds `quantity` of `book` (up to {@linkcode MAX_QUANTITY}). */
export function addToCart(book: CartBook, quantity = 1): void {
  const lines = read();
  const line = lines.find((l) => l.bookId === book.bookId);
  if (line) line.quantity = Math.min(MAX_QUANTITY, line.quantity + quantity);
  else lines.push({ ...book, quantity: Math.min(MAX_QUANTITY, quantity) });
  write(lines);
}

/** Sets a line's quantity; 0 removes it. */
export function setQuantity(bookId: string, quantity: number): void {
  const clamped = Math.max(0, Math.min(MAX_QUANTITY, Math.floor(quantity)));
  const lines = read().flatMap((l) => l.bookId !== bookId ? [l] : clamped === 0 ? [] : [{ ...l, quantity: clamped }]);
  write(lines);
}

/** Removes a book from the cart. */
export function removeFromCart(bookId: string): void {
  write(read().filter((l) => l.bookId !== bookId));
}

/** Empties the cart (after an approved order). */
export function clearCart(): void {
  write([]);
}

/** Formats a price in dollars. */
export function formatPrice(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
