/**
 * The shop's front page: the catalog with current stock, rendered on the
 * server from the orchestrator's public API.
 *
 * @module
 */
import type { Book } from "@bookstore/lib/contracts";

/** Props of {@linkcode CatalogPage}. */
export interface CatalogPageProps {
  /** Books to show. */
  books: Book[];
  /** The search query, if any. */
  query: string;
  /** Why the catalog could not be loaded, if it could not. */
  error?: string;
}

/** The catalog page. */
export default function CatalogPage({ books, query, error }: CatalogPageProps) {
  return (
    <main>
      <header>
        <h1>The Bookstore</h1>
        <form method="get" action="/" role="search">
          <input type="search" name="q" value={query} placeholder="Search title, author or genre" aria-label="Search" />
          <button type="submit">Search</button>
        </form>
      </header>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <p class="count">{books.length} books</p>
      <ul class="books">
        {books.map((book) => (
          <li class="book" key={book.bookId} data-book-id={book.bookId}>
            <h2>{book.title}</h2>
            <p class="author">{book.author} · {book.year}</p>
            <p class="genres">{book.genres.join(", ")}</p>
            <p class="price">${book.price.toFixed(2)} · {book.stock > 0 ? `${book.stock} in stock` : "out of stock"}</p>
          </li>
        ))}
      </ul>
    </main>
  );
}
