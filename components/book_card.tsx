/**
 * A book in a list: title (linking to its page), author and year, genres,
 * price and stock, and the "Add to cart" button (`BookPurchase`, shared with
 * the book's own page).
 *
 * @module
 */
import type { Book } from "@bookstore/lib/contracts";
import AddToCart from "../islands/add_to_cart.tsx";
import { formatPrice } from "../utils/cart.ts";

/** Props of {@linkcode BookCard}. */
export interface BookCardProps {
  /** The book, with current stock. */
  book: Book;
}

/** One book in a list. */
export function BookCard({ book }: BookCardProps) {
  return (
    <li class="book" data-book-id={book.bookId}>
      <h2>
        <a href={`/books/${book.bookId}`}>{book.title}</a>
      </h2>
      <p class="author">{book.author} · {book.year}</p>
      <p class="genres">{book.genres.join(", ")}</p>
      <BookPurchase book={book} />
    </li>
  );
}

/** A book's price and stock with its "Add to cart" button, as the lists and the book's page show them. */
export function BookPurchase({ book }: BookCardProps) {
  return (
    <>
      <p class="price">
        {formatPrice(book.price)} · {book.stock > 0 ? `${book.stock} in stock` : "out of stock"}
      </p>
      <AddToCart
        book={{ bookId: book.bookId, title: book.title, author: book.author, price: book.price }}
        disabled={book.stock <= 0}
      />
    </>
  );
}
