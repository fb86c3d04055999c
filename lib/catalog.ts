/**
 * The catalog of real books that ships with the repository
 * (`catalog/books.json`): titles, authors, years, genres, our own short
 * descriptions, prices and initial stock. Current stock lives in the order
 * queue's store; this is the starting point and the metadata.
 *
 * @module
 */
import { z } from "zod";
import books from "./catalog/books.json" with { type: "json" };
import { matchesQuery, normalize } from "./search.ts";

/** A catalog entry as shipped. */
export const catalogBookSchema: z.ZodObject<{
  bookId: z.ZodString;
  title: z.ZodString;
  author: z.ZodString;
  year: z.ZodNumber;
  genres: z.ZodArray<z.ZodString>;
  description: z.ZodString;
  price: z.ZodNumber;
  stock: z.ZodNumber;
}> = z.object({
  bookId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  title: z.string().min(1),
  author: z.string().min(1),
  year: z.number().int(),
  genres: z.array(z.string().min(1)).min(1),
  description: z.string().min(1),
  price: z.number().positive(),
  stock: z.number().int().min(0),
});

/** A shipped catalog book. */
export type CatalogBook = z.infer<typeof catalogBookSchema>;

/** A reference to a book as an order line gives it: by id or by title. */
export interface ItemReference {
  /** The book's id, when given. */
  bookId?: string;
  /** The book's title, when given. */
  name?: string;
}

/** The catalog with lookups by id and title. */
export class Catalog {
  /** Every book, sorted by id. */
  readonly books: readonly CatalogBook[];
  readonly #byId: Map<string, CatalogBook>;
  readonly #byTitle: Map<string, CatalogBook>;

  /** Indexes `books`; throws when ids or titles repeat. */
  constructor(books: readonly CatalogBook[]) {
    this.books = [...books].sort((a, b) => a.bookId.localeCompare(b.bookId));
    this.#byId = new Map(books.map((b) => [b.bookId, b]));
    this.#byTitle = new Map(books.map((b) => [normalize(b.title), b]));
    if (this.#byId.size !== books.length || this.#byTitle.size !== books.length) {
      throw new Error("catalog: book ids and titles must be unique");
    }
  }

  /** The book with this id. */
  get(bookId: string): CatalogBook | undefined {
    return this.#byId.get(bookId);
  }

  /** The book an order line refers to: by id if given, else by exact title (case-insensitive). */
  resolve(item: ItemReference): CatalogBook | undefined {
    if (item.bookId) return this.#byId.get(item.bookId);
    if (item.name) return this.#byTitle.get(normalize(item.name)) ?? this.#byId.get(item.name.trim());
    return undefined;
  }

  /** Books whose title, author or genres contain every word of `query`. */
  search(query: string): CatalogBook[] {
    return this.books.filter((book) => matchesQuery(book, query));
  }
}

let shipped: Catalog | undefined;

/** The shipped catalog, validated once per process. */
export function loadCatalog(): Catalog {
  shipped ??= new Catalog(z.array(catalogBookSchema).min(1).parse(books));
  return shipped;
}
