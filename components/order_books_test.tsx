import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { OrderBooks } from "./order_books.tsx";

const items = [
  { bookId: "the-fellowship-of-the-ring", title: "The Fellowship of the Ring", quantity: 3 },
  { bookId: "dune", title: "Dune", quantity: 1 },
];

Deno.test("each book shows the names it was ordered as, other than its title", () => {
  const html = renderToString(
    <OrderBooks
      items={items}
      resolvedNames={[
        { name: "Lord of the Ring", bookId: "the-fellowship-of-the-ring" },
        { name: "the fellowship of the ring!", bookId: "the-fellowship-of-the-ring" },
        { name: "DUNE", bookId: "dune" },
      ]}
    />,
  );
  const lines = [...html.matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1].replace(/<[^>]+>/g, ""));
  assert.deepEqual(lines, [
    "3 × The Fellowship of the Ring (ordered as “Lord of the Ring”)",
    "1 × Dune",
  ]);
});

Deno.test("a name is shown as text, never as markup", () => {
  const html = renderToString(
    <OrderBooks items={items.slice(1)} resolvedNames={[{ name: "<b>Dune</b> herbert", bookId: "dune" }]} />,
  );
  assert.ok(html.includes("&lt;b>Dune&lt;/b> herbert"), html);
});
