/**
 * The shop's front page: the catalog with current stock, searchable and
 * filterable by genre, a page at a time. Works without JavaScript through
 * the form and the page links; with it, the `catalog_browser` island
 * searches as you type.
 *
 * @module
 */
import CatalogBrowser from "../islands/catalog_browser.tsx";
import { type CatalogPage, catalogPage, catalogQueryOf } from "../utils/catalog_page.ts";
import type { State } from "../utils/state.ts";
import { type Handlers, page, type PageProps } from "../web/fresh.ts";
import { Head } from "../web/head.ts";

/** What the page renders. */
interface Data {
  catalog?: CatalogPage;
  genres: string[];
  error?: string;
}

/** Reads the catalog with stock from the orchestrator. */
export const handler: Handlers<Data, State> = {
  async GET(ctx) {
    const genres = [...new Set(ctx.state.catalog.books.flatMap((book) => book.genres))].sort();
    try {
      const books = await ctx.state.shop.books();
      return page({ catalog: catalogPage(books, catalogQueryOf(ctx.url)), genres });
    } catch {
      return page({ genres, error: "The catalog is unavailable right now. Please try again in a moment." }, {
        status: 503,
      });
    }
  },
};

/** The catalog page. */
export default function CatalogRoute({ data, state }: PageProps<Data, State>) {
  const description = `Browse ${state.catalog.books.length} books in ${data.genres.length} genres, from classics and ` +
    "history to science fiction and programming, with current stock: search by title or author, " +
    "filter by genre, and check out in one short form.";
  return (
    <>
      <Head>
        <meta key="description" name="description" content={description} />
      </Head>
      <h1>Books</h1>
      {data.catalog
        ? <CatalogBrowser initial={data.catalog} genres={data.genres} />
        : <p class="error" role="alert">{data.error}</p>}
    </>
  );
}
