/**
 * One page of the catalog: the books matching a search and a genre, a page
 * at a time, so the shop's front page stays light however big the catalog.
 *
 * @module
 */
import type { Book } from "@bookstore/lib/contracts";
import { matchesQuery } from "@bookstore/lib/search";

/** Books per page. */
export const PAGE_SIZE = 24;

/** What the catalog is filtered by. */
export interface CatalogQuery {
  /** Words that must all appear in title, author or genres. */
  query: string;
  /** Only books of this genre; every genre when empty. */
  genre: string;
  /** The page, from 1. */
  page: number;
}

/** One page of matching books. */
export interface CatalogPage extends CatalogQuery {
  /** The books on this page. */
  books: Book[];
  /** How many books match in all. */
  total: number;
  /** How many pages there are. */
  pageCount: number;
}

/** Reads the query from a URL's `q`, `genre` and `page` parameters. */
export function catalogQueryOf(url: URL): CatalogQuery {
  const page = Number.parseInt(url.searchParams.get("page") ?? "1", 10);
  return {
    query: (url.searchParams.get("q") ?? "").slice(0, 200),
    genre: (url.searchParams.get("genre") ?? "").slice(0, 64),
    page: Number.isFinite(page) && page >= 1 ? Math.min(page, 10_000) : 1,
  };
}

/** The page of `books` that `query` asks for (the last page when it asks past the end). */
export function catalogPage(books: readonly Book[], query: CatalogQuery): CatalogPage {
  const matching = books.filter((book) =>
    matchesQuery(book, query.query) && (query.genre === "" || book.genres.includes(query.genre))
  );
  const pageCount = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const page = Math.min(query.page, pageCount);
  const start = (page - 1) * PAGE_SIZE;
  return { ...query, page, pageCount, total: matching.length, books: matching.slice(start, start + PAGE_SIZE) };
}

/** The URL of a catalog page, without parameters that have their default. */
export function catalogHref(query: Partial<CatalogQuery>): string {
  const params = new URLSearchParams();
  if (query.query) params.set("q", query.query);
  if (query.genre) params.set("genre", query.genre);
  if (query.page && query.page > 1) params.set("page", String(query.page));
  const search = params.toString();
  return search ? `/?${search}` : "/";
}
