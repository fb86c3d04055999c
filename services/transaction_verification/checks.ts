/**
 * Event a of transaction verification as a pure function: items present,
 * known and sanely many. Events b and c need nothing but the order, so they
 * live in `@bookstore/lib/checks`, shared with the browser's checkout form.
 *
 * @module
 */
import type { Catalog, CatalogBook, ItemReference } from "@bookstore/lib/catalog";
import { MAX_DISTINCT_BOOKS, type Order, type ReasonCode } from "@bookstore/lib/contracts";
import { type CheckIssue, type CheckResult, verdict } from "@bookstore/lib/checks";

/** Largest quantity of one book in one order. */
export const MAX_LINE_QUANTITY = 50;
/** Largest number of books in one order. */
export const MAX_TOTAL_QUANTITY = 200;
/** Most characters of a client's book name repeated in a reason (the rest is cut, marked with "…"). */
export const MAX_ECHOED_NAME = 60;

/** Event a: the order has items, every item is a known book, quantities are sane. */
export function checkItems(order: Pick<Order, "items">, catalog: Catalog): CheckResult {
  if (order.items.length === 0) {
    return verdict([{ path: ["items"], message: "the order has no items", code: "items.empty" }]);
  }
  const issues: CheckIssue[] = [];
  let total = 0;
  order.items.forEach((item, i) => {
    const add = (field: string, message: string, code: ReasonCode) =>
      issues.push({ path: ["items", String(i), field], message, code });
    const label = echo(item.name || item.bookId || `item ${i + 1}`);
    if (!item.name && !item.bookId) {
      add("bookId", `item ${i + 1} names no book (give a bookId or a name)`, "items.unknown_book");
    } else {
      const problem = unresolved(item, catalog);
      if (problem) add(item.bookId ? "bookId" : "name", problem.message, problem.code);
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      add("quantity", `quantity of "${label}" must be at least 1`, "items.quantity");
    } else if (item.quantity > MAX_LINE_QUANTITY) {
      add("quantity", `quantity of "${label}" is more than ${MAX_LINE_QUANTITY}`, "items.quantity");
    } else {
      total += item.quantity;
    }
  });
  if (total > MAX_TOTAL_QUANTITY) {
    issues.push({
      path: ["items"],
      message: `the order has more than ${MAX_TOTAL_QUANTITY} books`,
      code: "items.too_many",
    });
  }
  const distinct = new Set(order.items.map((item) => catalog.resolve(item)?.bookId ?? item.name ?? item.bookId));
  if (distinct.size > MAX_DISTINCT_BOOKS) {
    issues.push({
      path: ["items"],
      message: `the order has more than ${MAX_DISTINCT_BOOKS} different books`,
      code: "items.too_many",
    });
  }
  return verdict(issues);
}

/**
 * Why an order line names no book, or `undefined` when it does: unknown or
 * ambiguous, with the closest titles to ask for instead.
 */
export function unresolved(
  item: ItemReference,
  catalog: Catalog,
): { code: ReasonCode; message: string } | undefined {
  const resolution = catalog.match(item);
  if (resolution.kind === "found") return undefined;
  const label = echo(item.bookId || item.name || "");
  const offer = resolution.closest.length > 0 ? `: did you mean ${alternatives(resolution.closest)}?` : "";
  const code = resolution.kind === "ambiguous" ? "items.ambiguous_book" : "items.unknown_book";
  return { code, message: `${resolution.kind} book "${label}"${offer}` };
}

// `"A", "B" or "C"`.
function alternatives(books: CatalogBook[]): string {
  const titles = books.map((book) => `"${book.title}"`);
  return titles.length === 1 ? titles[0] : `${titles.slice(0, -1).join(", ")} or ${titles.at(-1)}`;
}

// A client's text in a reason: one line, cut to MAX_ECHOED_NAME characters.
function echo(text: string): string {
  // deno-lint-ignore no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, " ").trim();
  const chars = [...line];
  return chars.length > MAX_ECHOED_NAME ? `${chars.slice(0, MAX_ECHOED_NAME - 1).join("")}…` : line;
}
