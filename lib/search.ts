/**
 * Catalog search, shared by the orchestrator's `GET /books?q=` and the web
 * app's search-as-you-type island (so it must stay free of server-only
 * imports: it is bundled for the browser).
 *
 * @module
 */

/** What a book is searched by. */
export interface Searchable {
  /** The title. */
  title: string;
  /** The author(s). */
  author: string;
  /** The genres. */
  genres: readonly string[];
}

/** Lower case, trimmed, runs of white space as one space: how titles and queries are compared. */
export function normalize(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, " ");
}

/** Whether every word of `query` appears in the book's title, author or genres (case-insensitive). */
export function matchesQuery(book: Searchable, query: string): boolean {
  const words = normalize(query).split(" ").filter(Boolean);
  const haystack = normalize(`${book.title} ${book.author} ${book.genres.join(" ")}`);
  return words.every((word) => haystack.includes(word));
}
