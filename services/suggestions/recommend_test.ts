import assert from "node:assert/strict";
import { loadCatalog } from "@bookstore/lib/catalog";
import { recommend } from "./recommend.ts";
import { SimilarityIndex, tokenize } from "./similarity.ts";

const catalog = loadCatalog();
const index = new SimilarityIndex(catalog.books);

Deno.test("tokenize drops stopwords, short words and accents", () => {
  assert.deepEqual(tokenize("The Café of the Lost Émigrés, 2nd ed."), ["cafe", "lost", "emigres", "2nd"]);
});

Deno.test("similar books come first and the cart is never suggested", () => {
  const picks = recommend(["dune"], { catalog, index, coPurchases: new Map(), limit: 5 });
  assert.equal(picks.length, 5);
  assert.ok(!picks.some((b) => b.bookId === "dune"));
  const genres = picks.map((b) => catalog.get(b.bookId)!.genres);
  assert.ok(genres.every((g) => g.includes("science fiction")), JSON.stringify(picks));
});

Deno.test("co-purchases pull an unrelated book up the list", () => {
  const poem = catalog.books.find((b) => b.genres.includes("poetry") && !b.genres.includes("science fiction"))!;
  const plain = recommend(["dune"], { catalog, index, coPurchases: new Map(), limit: 3 });
  const boosted = recommend(["dune"], { catalog, index, coPurchases: new Map([[poem.bookId, 50]]), limit: 3 });
  assert.ok(!plain.some((b) => b.bookId === poem.bookId));
  assert.equal(boosted[0].bookId, poem.bookId);
});

Deno.test("the inverted index scores every book as a full cosine over all books would", () => {
  const cart = ["dune", "foundation"];
  const centroid = new Map<string, number>();
  for (const id of cart) for (const [t, w] of index.vector(id)!) centroid.set(t, (centroid.get(t) ?? 0) + w);
  const norm = Math.sqrt([...centroid.values()].reduce((s, w) => s + w * w, 0));
  const scores = index.similarTo(cart);
  for (const book of catalog.books) {
    if (cart.includes(book.bookId)) continue;
    let cosine = 0;
    for (const [t, w] of index.vector(book.bookId)!) cosine += (w * (centroid.get(t) ?? 0)) / norm;
    assert.ok(Math.abs((scores.get(book.bookId) ?? 0) - cosine) < 1e-12, book.bookId);
  }
  assert.ok(!scores.has("dune") && !scores.has("foundation"), "the cart is not scored");
});
