/**
 * The catalog with a search box that filters as you type. Rendered on the
 * server with the request's query (so it works without JavaScript, through
 * the form), then hydrated in the browser.
 *
 * @module
 */
import { useState } from "preact/hooks";
import type { Book } from "@bookstore/lib/contracts";
import { matchesQuery } from "@bookstore/lib/search";

/** Props of {@linkcode CatalogBrowser}; serialised into the page for hydration. */
export interface CatalogBrowserProps {
  /** Every book, with current stock. */
  books: Book[];
  /** The query the page was requested with. */
  query: string;
}

/** The searchable catalog. */
export default function CatalogBrowser({ books, query: initialQuery }: CatalogBrowserProps) {
  const [query, setQuery] = useState(initialQuery);
  const shown = books.filter((book) => matchesQuery(book, query));
  return (
    <section>
      <form method="get" action="/" role="search" onSubmit={(event) => event.preventDefault()}>
        <input
          type="search"
          name="q"
          value={query}
          placeholder="Search title, author or genre"
          aria-label="Search"
          onInput={(event) => setQuery(event.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      <p class="count" aria-live="polite">{shown.length} books</p>
      <ul class="books">
        {shown.map((book) => (
          <li class="book" key={book.bookId} data-book-id={book.bookId}>
            <h2>{book.title}</h2>
            <p class="author">{book.author} · {book.year}</p>
            <p class="genres">{book.genres.join(", ")}</p>
            <p class="price">
              ${book.price.toFixed(2)} · {book.stock > 0 ? `${book.stock} in stock` : "out of stock"}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
