/**
 * The catalog of real books that ships with the repository
 * (`catalog/books.json`): titles, authors, series, years, genres, our own
 * short descriptions, prices and initial stock. Current stock lives in the
 * order queue's store; this is the starting point and the metadata.
 *
 * It also decides which book an order line means ({@linkcode Catalog.resolve}):
 * every service resolves lines here, so that all of them agree.
 *
 * @module
 */
import { z } from "zod";
import books from "./catalog/books.json" with { type: "json" };
import { keyWords, matchesQuery, normalize, words } from "./search.ts";

/** A catalog entry as shipped. */
export const catalogBookSchema: z.ZodObject<{
  bookId: z.ZodString;
  title: z.ZodString;
  author: z.ZodString;
  series: z.ZodOptional<z.ZodString>;
  year: z.ZodNumber;
  genres: z.ZodArray<z.ZodString>;
  description: z.ZodString;
  price: z.ZodNumber;
  stock: z.ZodNumber;
}> = z.object({
  bookId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  title: z.string().min(1),
  author: z.string().min(1),
  /** The series the book belongs to, as readers name it ("The Lord of the Rings"). */
  series: z.string().min(1).optional(),
  year: z.number().int(),
  genres: z.array(z.string().min(1)).min(1),
  description: z.string().min(1),
  price: z.number().positive(),
  stock: z.number().int().min(0),
});

/** A shipped catalog book. */
export type CatalogBook = z.infer<typeof catalogBookSchema>;

/** A reference to a book as an order line gives it: by id or by name. */
export interface ItemReference {
  /** The book's id, when given. */
  bookId?: string;
  /** The book's name as a person types it, when given. */
  name?: string;
}

/** How many closest titles an unresolved name is answered with, at most. */
export const MAX_CLOSEST_TITLES = 3;

/**
 * Words of a name looked at, at most: more than any title, series and author
 * hold together, and a bound on the work one order line can cause.
 */
export const MAX_NAME_WORDS = 16;

/**
 * Which book an order line means: `found`, or not, either because the name
 * fits several books (`ambiguous`) or none (`unknown`); then `closest` holds
 * the titles to offer instead, best first, at most {@linkcode MAX_CLOSEST_TITLES}.
 */
export type Resolution =
  | { kind: "found"; book: CatalogBook }
  | { kind: "ambiguous" | "unknown"; closest: CatalogBook[] };

/** Books by the words of one of their fields, looked up by the start of a word. */
class WordIndex {
  readonly #words: string[];
  readonly #books = new Map<string, number[]>();

  /** `fields[i]` holds the words of book `i`. */
  constructor(fields: readonly (readonly string[])[]) {
    fields.forEach((bookWords, i) => {
      for (const word of new Set(bookWords)) this.#books.set(word, [...this.#books.get(word) ?? [], i]);
    });
    // Code-unit order keeps every word starting with a prefix in one run.
    this.#words = [...this.#books.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  }

  /** Indices of the books with a word starting with `prefix`. */
  withWordStarting(prefix: string): Set<number> {
    let low = 0;
    let high = this.#words.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#words[middle] < prefix) low = middle + 1;
      else high = middle;
    }
    const found = new Set<number>();
    for (let i = low; i < this.#words.length && this.#words[i].startsWith(prefix); i++) {
      for (const book of this.#books.get(this.#words[i])!) found.add(book);
    }
    return found;
  }
}

/** The catalog with lookups by id, title and name. */
export class Catalog {
  /** Every book, sorted by id. */
  readonly books: readonly CatalogBook[];
  readonly #byId: Map<string, CatalogBook>;
  readonly #byTitle: Map<string, CatalogBook>;
  readonly #titleKeys: string[];
  readonly #titles: WordIndex;
  readonly #titlesAndAuthors: WordIndex;

  /** Indexes `books`; throws when ids or titles repeat. */
  constructor(books: readonly CatalogBook[]) {
    this.books = [...books].sort((a, b) => a.bookId.localeCompare(b.bookId));
    this.#byId = new Map(books.map((b) => [b.bookId, b]));
    this.#byTitle = new Map(books.map((b) => [words(b.title).join(" "), b]));
    if (this.#byId.size !== books.length || this.#byTitle.size !== books.length) {
      throw new Error("catalog: book ids and titles must be unique");
    }
    this.#titleKeys = this.books.map((b) => keyWords(b.title).join(" "));
    const titleWords = this.books.map((b) => words(`${b.title} ${b.series ?? ""}`));
    this.#titles = new WordIndex(titleWords);
    this.#titlesAndAuthors = new WordIndex(titleWords.map((title, i) => [...title, ...words(this.books[i].author)]));
  }

  /** The book with this id. */
  get(bookId: string): CatalogBook | undefined {
    return this.#byId.get(bookId);
  }

  /** The book an order line means, if one is clearly meant (see {@linkcode Catalog.match}). */
  resolve(item: ItemReference): CatalogBook | undefined {
    const resolution = this.match(item);
    return resolution.kind === "found" ? resolution.book : undefined;
  }

  /**
   * Which book an order line means. A `bookId` must be a book's id. A `name`
   * is looked for in steps, stopping at the first step that finds any book:
   * a book's id or exact title (ignoring case, accents and punctuation); a
   * title equal to it but for small words ("the", "of"…); titles and series
   * with a word starting with each of its words ("Lord of the Ring" → The
   * Lord of the Rings); the same with authors too. One book found is the
   * book; several are ambiguous. Deterministic: the same name means the same
   * book in every service, whatever order the books were given in.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { loadCatalog } from "./catalog.ts";
   *
   * const catalog = loadCatalog();
   * assert.equal(catalog.resolve({ name: "Harry Potter" })?.title, "Harry Potter and the Philosopher's Stone");
   * assert.equal(catalog.resolve({ name: "Lord of the Ring" })?.title, "The Fellowship of the Ring");
   * const tolkien = catalog.match({ name: "Tolkien" });
   * assert.equal(tolkien.kind, "ambiguous");
   * ```
   */
  match(item: ItemReference): Resolution {
    if (item.bookId) {
      const book = this.#byId.get(item.bookId);
      return book ? { kind: "found", book } : this.#unknown(item.bookId);
    }
    const name = item.name ?? "";
    const exact = this.#byTitle.get(words(name).join(" ")) ?? this.#byId.get(normalize(name));
    if (exact) return { kind: "found", book: exact };
    const wanted = keyWords(name);
    if (wanted.length === 0 || wanted.length > MAX_NAME_WORDS) return this.#unknown(name);
    const key = wanted.join(" ");
    const steps: (() => Set<number>)[] = [
      () => new Set(this.#titleKeys.flatMap((title, i) => title === key ? [i] : [])),
      () => intersection(wanted.map((word) => this.#titles.withWordStarting(word))),
      () => intersection(wanted.map((word) => this.#titlesAndAuthors.withWordStarting(word))),
    ];
    for (const step of steps) {
      const found = [...step()];
      if (found.length === 1) return { kind: "found", book: this.books[found[0]] };
      if (found.length > 1) return { kind: "ambiguous", closest: this.#closest(found, wanted) };
    }
    return this.#unknown(name);
  }

  /** Books whose title, author or genres contain every word of `query`. */
  search(query: string): CatalogBook[] {
    return this.books.filter((book) => matchesQuery(book, query));
  }

  /** No book: the closest are those matching the most of the name's words (at least one). */
  #unknown(name: string): Resolution {
    const wanted = keyWords(name).slice(0, MAX_NAME_WORDS);
    const score = new Map<number, number>();
    for (const word of wanted) {
      for (const i of this.#titlesAndAuthors.withWordStarting(word)) score.set(i, (score.get(i) ?? 0) + 1);
    }
    const best = Math.max(0, ...score.values());
    const closest = [...score].filter(([, n]) => n === best).map(([i]) => i);
    return { kind: "unknown", closest: this.#closest(closest, wanted) };
  }

  /**
   * The best few of `candidates`: titles that start with the name's words
   * first, then older books (a series' first volume first), shorter titles,
   * and titles in alphabetical order.
   */
  #closest(candidates: number[], wanted: string[]): CatalogBook[] {
    const ranked = candidates.map((i) => {
      const title = this.#titleKeys[i].split(" ");
      const starts = wanted.every((word, k) => title[k]?.startsWith(word));
      return { book: this.books[i], key: [starts ? 0 : 1, this.books[i].year, title.length, this.#titleKeys[i]] };
    });
    ranked.sort((a, b) => compareKeys(a.key, b.key) || (a.book.bookId < b.book.bookId ? -1 : 1));
    return ranked.slice(0, MAX_CLOSEST_TITLES).map((r) => r.book);
  }
}

function intersection(sets: Set<number>[]): Set<number> {
  const [first, ...rest] = [...sets].sort((a, b) => a.size - b.size);
  return new Set([...first ?? []].filter((i) => rest.every((set) => set.has(i))));
}

function compareKeys(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

let shipped: Catalog | undefined;

/** The shipped catalog, validated once per process. */
export function loadCatalog(): Catalog {
  shipped ??= new Catalog(z.array(catalogBookSchema).min(1).parse(books));
  return shipped;
}
