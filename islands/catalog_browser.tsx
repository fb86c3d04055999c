/**
 * The catalog with search and genre filter. Rendered on the server for the
 * requested page (and usable without JavaScript through its form and links);
 * once hydrated it searches as you type, asking the web app for one page of
 * results at a time and keeping the address bar in step.
 *
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { BookCard } from "../components/book_card.tsx";
import { catalogHref, type CatalogPage } from "../utils/catalog_page.ts";

/** Props of {@linkcode CatalogBrowser}. */
export interface CatalogBrowserProps {
  /** The page the server rendered. */
  initial: CatalogPage;
  /** Every genre, for the filter. */
  genres: string[];
}

/** The searchable catalog. */
export default function CatalogBrowser({ initial, genres }: CatalogBrowserProps) {
  const current = useSignal(initial);
  const query = useSignal(initial.query);
  const genre = useSignal(initial.genre);
  const failed = useSignal(false);
  const first = useRef(true);

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      const href = catalogHref({ query: query.value, genre: genre.value });
      try {
        const response = await fetch(`/api/books${href.slice(1)}`, { signal: controller.signal });
        if (!response.ok) throw new Error(String(response.status));
        current.value = await response.json();
        failed.value = false;
        history.replaceState(null, "", href);
      } catch {
        if (!controller.signal.aborted) failed.value = true;
      }
    }, 120);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [query.value, genre.value]);

  const shown = current.value;
  return (
    <section>
      <form method="get" action="/" role="search" class="search" onSubmit={(event) => event.preventDefault()}>
        <label>
          <span class="label">Search</span>
          <input
            type="search"
            name="q"
            value={query.value}
            placeholder="Title, author or genre"
            onInput={(event) => query.value = event.currentTarget.value}
          />
        </label>
        <label>
          <span class="label">Genre</span>
          <select name="genre" value={genre.value} onChange={(event) => genre.value = event.currentTarget.value}>
            <option value="">All genres</option>
            {genres.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <p class="count" aria-live="polite">
        {failed.value ? "The catalog could not be searched just now." : `${shown.total} books`}
      </p>
      {shown.total === 0 ? <p class="empty">No book matches. Try fewer words or another genre.</p> : (
        <ul class="books">
          {shown.books.map((book) => <BookCard key={book.bookId} book={book} />)}
        </ul>
      )}
      {shown.pageCount > 1 && (
        <nav class="pages" aria-label="Pages">
          {shown.page > 1 && <a href={catalogHref({ ...shown, page: shown.page - 1 })} rel="prev">← Previous</a>}
          <span>Page {shown.page} of {shown.pageCount}</span>
          {shown.page < shown.pageCount && (
            <a href={catalogHref({ ...shown, page: shown.page + 1 })} rel="next">Next →</a>
          )}
        </nav>
      )}
    </section>
  );
}
