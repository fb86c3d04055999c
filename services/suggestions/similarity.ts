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

/** TF-IDF vectors of every catalog book, with an inverted index from term to the books that have it. */
export class SimilarityIndex {
  readonly #vectors = new Map<string, SparseVector>();
  readonly #postings = new Map<string, { bookId: string; weight: number }[]>();

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
    for (const [bookId, vector] of this.#vectors) {
      for (const [term, weight] of vector) {
        let posting = this.#postings.get(term);
        if (!posting) this.#postings.set(term, posting = []);
        posting.push({ bookId, weight });
      }
    }
  }

  /** The vector of a book. */
  vector(bookId: string): SparseVector | undefined {
    return this.#vectors.get(bookId);
  }

  /**
   * Cosine similarity to the centroid of `bookIds` of every other book that
   * shares a term with it (books sharing none score 0 and are left out).
   * Walks only the postings of the query's terms, not every book.
   */
  similarTo(bookIds: readonly string[]): Map<string, number> {
    const centroid: SparseVector = new Map();
    for (const id of bookIds) {
      for (const [term, weight] of this.#vectors.get(id) ?? []) {
        centroid.set(term, (centroid.get(term) ?? 0) + weight);
      }
    }
    const scores = new Map<string, number>();
    for (const [term, weight] of normalize(centroid)) {
      for (const posting of this.#postings.get(term) ?? []) {
        scores.set(posting.bookId, (scores.get(posting.bookId) ?? 0) + weight * posting.weight);
      }
    }
    for (const id of bookIds) scores.delete(id);
    return scores;
  }
}

function normalize(vector: SparseVector): SparseVector {
  const norm = Math.sqrt([...vector.values()].reduce((sum, w) => sum + w * w, 0));
  if (norm === 0) return vector;
  return new Map([...vector].map(([term, weight]) => [term, weight / norm]));
}
