/**
 * What an order holds, as the orchestrator records it: one line per book
 * (items naming the same book add up), and each book name the client typed
 * with the book it was resolved to, through the same `Catalog.resolve` every
 * validator used.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import { MAX_RESOLVED_NAME, type Order, type OrderLine, type ResolvedName } from "@bookstore/lib/contracts";

/** The recorded lines of `order` and the names its items gave. */
export function orderLines(order: Pick<Order, "items">, catalog: Catalog): {
  items: OrderLine[];
  resolvedNames: ResolvedName[];
} {
  const lines = new Map<string, OrderLine>();
  const names = new Map<string, ResolvedName>();
  for (const item of order.items) {
    const book = catalog.resolve(item);
    if (!book) continue;
    const line = lines.get(book.bookId) ?? { bookId: book.bookId, title: book.title, quantity: 0 };
    line.quantity += item.quantity;
    lines.set(book.bookId, line);
    // A line given by id names its book already; a name is kept as typed (spacing aside), once.
    const name = item.bookId ? "" : cut(item.name.trim().replace(/\s+/g, " "));
    if (name) names.set(JSON.stringify([name, book.bookId]), { name, bookId: book.bookId });
  }
  return { items: [...lines.values()], resolvedNames: [...names.values()] };
}

function cut(name: string): string {
  const chars = [...name];
  return chars.length > MAX_RESOLVED_NAME ? `${chars.slice(0, MAX_RESOLVED_NAME - 1).join("")}…` : name;
}
