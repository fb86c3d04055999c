/**
 * An order's books, each with the names the order gave it when they were
 * not its title ("Lord of the Ring" for The Fellowship of the Ring), so that
 * a shopper sees which book each name was taken for.
 *
 * @module
 */
import type { OrderLine, ResolvedName } from "@bookstore/lib/contracts";
import { words } from "@bookstore/lib/search";

/** Props of {@linkcode OrderBooks}. */
export interface OrderBooksProps {
  /** The order's lines. */
  items: OrderLine[];
  /** The names the order's items gave, with the books they meant. */
  resolvedNames: ResolvedName[];
}

/** The names that meant `line`'s book other than its title itself (however cased or punctuated). */
export function namesOtherThanTitle(line: OrderLine, resolvedNames: ResolvedName[]): string[] {
  const title = words(line.title).join(" ");
  return resolvedNames.filter((n) => n.bookId === line.bookId && words(n.name).join(" ") !== title).map((n) => n.name);
}

/** The list of an order's books. */
export function OrderBooks({ items, resolvedNames }: OrderBooksProps) {
  return (
    <ul class="order-books">
      {items.map((item) => {
        const names = namesOtherThanTitle(item, resolvedNames);
        return (
          <li key={item.bookId}>
            {item.quantity} × <a href={`/books/${item.bookId}`}>{item.title}</a>
            {names.length > 0 && (
              <span class="ordered-as">{` (ordered as ${names.map((name) => `“${name}”`).join(", ")})`}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
