/**
 * Event a of transaction verification as a pure function: items present,
 * known and sanely many. Events b and c need nothing but the order, so they
 * live in `@bookstore/lib/checks`, shared with the browser's checkout form.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import { MAX_DISTINCT_BOOKS, type Order } from "@bookstore/lib/contracts";
import { type CheckIssue, type CheckResult, verdict } from "@bookstore/lib/checks";

/** Largest quantity of one book in one order. */
export const MAX_LINE_QUANTITY = 50;
/** Largest number of books in one order. */
export const MAX_TOTAL_QUANTITY = 200;

/** Event a: the order has items, every item is a known book, quantities are sane. */
export function checkItems(order: Pick<Order, "items">, catalog: Catalog): CheckResult {
  if (order.items.length === 0) return verdict([{ path: ["items"], message: "the order has no items" }]);
  const issues: CheckIssue[] = [];
  let total = 0;
  order.items.forEach((item, i) => {
    const add = (field: string, message: string) => issues.push({ path: ["items", String(i), field], message });
    const label = item.name || item.bookId || `item ${i + 1}`;
    if (!item.name && !item.bookId) add("bookId", `item ${i + 1} names no book (give a bookId or a name)`);
    else if (!catalog.resolve(item)) add(item.bookId ? "bookId" : "name", `unknown book "${label}"`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      add("quantity", `quantity of "${label}" must be at least 1`);
    } else if (item.quantity > MAX_LINE_QUANTITY) {
      add("quantity", `quantity of "${label}" is more than ${MAX_LINE_QUANTITY}`);
    } else {
      total += item.quantity;
    }
  });
  if (total > MAX_TOTAL_QUANTITY) {
    issues.push({ path: ["items"], message: `the order has more than ${MAX_TOTAL_QUANTITY} books` });
  }
  const distinct = new Set(order.items.map((item) => catalog.resolve(item)?.bookId ?? item.name ?? item.bookId));
  if (distinct.size > MAX_DISTINCT_BOOKS) {
    issues.push({ path: ["items"], message: `the order has more than ${MAX_DISTINCT_BOOKS} different books` });
  }
  return verdict(issues);
}
