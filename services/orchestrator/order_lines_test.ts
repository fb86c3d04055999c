import assert from "node:assert/strict";
import { loadCatalog } from "@bookstore/lib/catalog";
import { MAX_RESOLVED_NAME, orderItemSchema, resolvedNameSchema } from "@bookstore/lib/contracts";
import { orderLines } from "./order_lines.ts";

const catalog = loadCatalog();
const items = (...given: Record<string, unknown>[]) => given.map((item) => orderItemSchema.parse(item));

Deno.test("each name is recorded with the book it was resolved to; lines add up per book", () => {
  const order = {
    items: items(
      { name: "Harry Potter", quantity: 1 },
      { name: " Lord of the Ring ", quantity: 2 },
      { name: "The Fellowship of the Ring", quantity: 1 },
      { bookId: "dune", quantity: 1 },
      { name: "Harry Potter", quantity: 1 },
      { name: "Tolkien", quantity: 1 },
    ),
  };
  assert.deepEqual(orderLines(order, catalog), {
    items: [
      {
        bookId: "harry-potter-and-the-philosophers-stone",
        title: "Harry Potter and the Philosopher's Stone",
        quantity: 2,
      },
      { bookId: "the-fellowship-of-the-ring", title: "The Fellowship of the Ring", quantity: 3 },
      { bookId: "dune", title: "Dune", quantity: 1 },
    ],
    resolvedNames: [
      { name: "Harry Potter", bookId: "harry-potter-and-the-philosophers-stone" },
      { name: "Lord of the Ring", bookId: "the-fellowship-of-the-ring" },
      { name: "The Fellowship of the Ring", bookId: "the-fellowship-of-the-ring" },
    ],
  });
});

Deno.test("an item with both an id and a name is the id's book, and records no name", () => {
  const order = { items: items({ bookId: "dune", name: "Harry Potter", quantity: 1 }) };
  assert.deepEqual(orderLines(order, catalog), {
    items: [{ bookId: "dune", title: "Dune", quantity: 1 }],
    resolvedNames: [],
  });
});

Deno.test("a long name is kept cut short, within what the order's view may carry", () => {
  const name = `Harry ${"Harry ".repeat(40)}Potter`;
  const { resolvedNames } = orderLines({ items: items({ name, quantity: 1 }) }, catalog);
  assert.equal(resolvedNames.length, 1);
  assert.equal([...resolvedNames[0].name].length, MAX_RESOLVED_NAME);
  assert.ok(resolvedNames[0].name.endsWith("…"));
  resolvedNameSchema.parse(resolvedNames[0]);
});
