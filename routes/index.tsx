/**
 * The shop's front page: the catalog with current stock, rendered on the
 * server from the orchestrator's public API; the search filters as you type
 * once the `CatalogBrowser` island is hydrated.
 *
 * @module
 */
import type { Book } from "@bookstore/lib/contracts";
import { Island } from "../web/island.tsx";

/** Props of {@linkcode CatalogPage}. */
export interface CatalogPageProps {
  /** Every book. */
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
      </header>
      {error ? <p class="error" role="alert">{error}</p> : <Island name="CatalogBrowser" props={{ books, query }} />}
    </main>
  );
}
