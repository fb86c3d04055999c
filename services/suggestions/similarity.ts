/**
 * Content similarity over the catalog: TF-IDF vectors of each book's genres,
 * author, title and description, compared by cosine similarity. Computed
 * locally at start-up; nothing is downloaded and no external service called.
 *
 * @module
 */
import type { CatalogBook } from "@bookstore/lib/catalog";

/** A sparse vector: term to weight, L2-normalised. */
export type SparseVector = Map<string, number>;

const STOPWORDS = new Set(
  "a an and are as at be by for from has have in into is it its of on or that the their this to was were with who whom how what when where why which while about across after against among around before between both but can during each every her his into more most over such than them then there these they those through under until upon very will within without your our out all any not one two new its"
    .split(" "),
);

/** Lowercase word tokens of `text` without stopwords or very short words. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").split(/[^a-z0-9]+/)
    .filter((word) => word.length >= 3 && !STOPWORDS.has(word));
}

// Genres and authors say more about "more like this" than any single description word.
function termsOf(book: CatalogBook): string[] {
  const genres = book.genres.flatMap((genre) => {
    const tag = `genre:${genre}`;
    return [tag, tag, tag];
  });
  const author = `author:${book.author.toLowerCase()}`;
  return [...genres, author, author, ...tokenize(book.title), ...tokenize(book.title), ...tokenize(book.description)];
}

/** TF-IDF vectors of every catalog book. */
export class SimilarityIndex {
  readonly #vectors = new Map<string, SparseVector>();

  /** Builds vectors for `books`. */
  constructor(books: readonly CatalogBook[]) {
    const termCounts = books.map((book) => {
      const counts = new Map<string, number>();
      for (const term of termsOf(book)) counts.set(term, (counts.get(term) ?? 0) + 1);
      return counts;
    });
    const documentFrequency = new Map<string, number>();
    for (const counts of termCounts) {
      for (const term of counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    }
    books.forEach((book, i) => {
      const vector: SparseVector = new Map();
      for (const [term, count] of termCounts[i]) {
        const idf = Math.log((1 + books.length) / (1 + documentFrequency.get(term)!)) + 1;
        vector.set(term, (1 + Math.log(count)) * idf);
      }
      this.#vectors.set(book.bookId, normalize(vector));
    });
  }

  /** The vector of a book. */
  vector(bookId: string): SparseVector | undefined {
    return this.#vectors.get(bookId);
  }

  /** Cosine similarity of every other book to the centroid of `bookIds`. */
  similarTo(bookIds: readonly string[]): Map<string, number> {
    const centroid: SparseVector = new Map();
    for (const id of bookIds) {
      for (const [term, weight] of this.#vectors.get(id) ?? []) {
        centroid.set(term, (centroid.get(term) ?? 0) + weight);
      }
    }
    const query = normalize(centroid);
    const scores = new Map<string, number>();
    for (const [id, vector] of this.#vectors) {
      if (!bookIds.includes(id)) scores.set(id, dot(query, vector));
    }
    return scores;
  }
}

function normalize(vector: SparseVector): SparseVector {
  const norm = Math.sqrt([...vector.values()].reduce((sum, w) => sum + w * w, 0));
  if (norm === 0) return vector;
  return new Map([...vector].map(([term, weight]) => [term, weight / norm]));
}

function dot(a: SparseVector, b: SparseVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let sum = 0;
  for (const [term, weight] of small) sum += weight * (large.get(term) ?? 0);
  return sum;
}
