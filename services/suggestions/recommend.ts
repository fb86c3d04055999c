/**
 * Recommendations: content similarity blended with "bought together" counts
 * learned from past orders (`copurchases.ts`). A book already in the cart is
 * never suggested.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type { BookRef } from "@bookstore/lib/contracts";
import type { SimilarityIndex } from "./similarity.ts";

/** Weight of co-purchases against content similarity (0..1). */
export const COPURCHASE_WEIGHT = 0.35;

interface Scored {
  id: string;
  score: number;
}

/** The `limit` best books to suggest for a cart, never one already in it. */
export function recommend(
  cart: readonly string[],
  options: { catalog: Catalog; index: SimilarityIndex; coPurchases: Map<string, number>; limit: number },
): BookRef[] {
  const similarity = options.index.similarTo(cart);
  const maxCount = Math.max(0, ...options.coPurchases.values());
  const candidates = new Set([...similarity.keys(), ...options.coPurchases.keys()].filter((id) => !cart.includes(id)));
  // Only the best `limit` are kept (a few, against hundreds of candidates): no full sort.
  const better = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.id.localeCompare(b.id) < 0);
  const scored: Scored[] = [];
  for (const id of candidates) {
    if (!options.catalog.get(id)) continue;
    const together = maxCount > 0 ? (options.coPurchases.get(id) ?? 0) / maxCount : 0;
    const entry = { id, score: (1 - COPURCHASE_WEIGHT) * (similarity.get(id) ?? 0) + COPURCHASE_WEIGHT * together };
    if (scored.length === options.limit && !better(entry, scored[scored.length - 1])) continue;
    let at = scored.length;
    while (at > 0 && better(entry, scored[at - 1])) at--;
    scored.splice(at, 0, entry);
    if (scored.length > options.limit) scored.pop();
  }
  // Books with nothing in common with the cart score 0 and follow in id order, as ties do.
  for (const book of options.catalog.books) {
    if (scored.length >= options.limit) break;
    if (!candidates.has(book.bookId) && !cart.includes(book.bookId)) scored.push({ id: book.bookId, score: 0 });
  }
  return scored.slice(0, options.limit).map(({ id }) => {
    const book = options.catalog.get(id)!;
    return { bookId: book.bookId, title: book.title, author: book.author };
  });
}
