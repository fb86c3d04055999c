/**
 * Catalog search, shared by the orchestrator's `GET /books?q=` and the web
 * app's search-as-you-type island (so it must stay free of server-only
 * imports: it is bundled for the browser), and the words an order line's
 * book name is resolved by (`Catalog.resolve`).
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

/**
 * Small words that tell no title from another: a book name need not match
 * them ("Lord of the Ring" is looked up by "lord" and "ring").
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  "a",
  "an",
  "and",
  "as",
  "at",
  "by",
  "for",
  "from",
  "in",
  "into",
  "of",
  "on",
  "or",
  "the",
  "to",
  "with",
]);

/**
 * The words of `text` as names are compared: {@linkcode normalize}d, accents
 * and apostrophes dropped ("Philosopher's" is "philosophers", "Gödel" is
 * "godel"), split at anything but letters and digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { words } from "./search.ts";
 *
 * assert.deepEqual(words("  Harry Potter and the Philosopher’s Stone"), [
 *   "harry", "potter", "and", "the", "philosophers", "stone",
 * ]);
 * assert.deepEqual(words("Gödel, Escher, Bach"), ["godel", "escher", "bach"]);
 * ```
 */
export function words(text: string): string[] {
  return normalize(text).normalize("NFKD").replace(/\p{M}/gu, "").replace(/['‘’`]/g, "")
    .split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

/** The {@linkcode words} of `text` that tell books apart: without {@linkcode STOP_WORDS}, each once, in order. */
export function keyWords(text: string): string[] {
  return [...new Set(words(text).filter((word) => !STOP_WORDS.has(word)))];
}
