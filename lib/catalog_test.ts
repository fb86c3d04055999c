import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Catalog,
  type CatalogBook,
  loadCatalog,
  MAX_CLOSEST_TITLES,
  MAX_NAME_WORDS,
  type Resolution,
} from "./catalog.ts";
import { keyWords, words } from "./search.ts";

const catalog = loadCatalog();
const titleOf = (resolution: Resolution) => resolution.kind === "found" ? resolution.book.title : undefined;
const closestOf = (resolution: Resolution) => resolution.kind === "found" ? [] : resolution.closest.map((b) => b.title);

Deno.test("the seeds' names resolve to the catalog's books", () => {
  assert.equal(titleOf(catalog.match({ name: "Harry Potter" })), "Harry Potter and the Philosopher's Stone");
  assert.equal(titleOf(catalog.match({ name: "Lord of the Ring" })), "The Fellowship of the Ring", "by its series");
  assert.equal(titleOf(catalog.match({ name: "the lord of the rings" })), "The Fellowship of the Ring");
});

Deno.test("every book is found by its id, and by its title however it is cased, accented or punctuated", () => {
  for (const book of catalog.books) {
    assert.equal(catalog.resolve({ bookId: book.bookId }), book);
    assert.equal(catalog.resolve({ name: book.bookId }), book, `${book.bookId} as a name`);
    assert.equal(catalog.resolve({ name: book.title }), book, book.title);
    assert.equal(catalog.resolve({ name: `  ${book.title.toUpperCase()} ` }), book, `${book.title} in capitals`);
    assert.equal(catalog.resolve({ name: words(book.title).join(" ") }), book, `${book.title} without punctuation`);
  }
  assert.equal(catalog.resolve({ name: "Godel Escher Bach" })?.bookId, "godel-escher-bach");
  assert.equal(
    catalog.resolve({ name: "harry potter and the philosophers stone" })?.bookId.slice(0, 12),
    "harry-potter",
  );
});

Deno.test("a bookId is never matched loosely", () => {
  assert.equal(catalog.match({ bookId: "harry-potter" }).kind, "unknown");
  assert.deepEqual(closestOf(catalog.match({ bookId: "harry-potter" })), ["Harry Potter and the Philosopher's Stone"]);
});

Deno.test("steps: an exact title, then a title but for small words, then titles and series, then authors", () => {
  assert.equal(titleOf(catalog.match({ name: "capital" })), "Capital", "not Capital in the Twenty-First Century");
  assert.equal(titleOf(catalog.match({ name: "Martian" })), "The Martian", "not The Martian Chronicles");
  assert.equal(titleOf(catalog.match({ name: "Hamilton" })), "Alexander Hamilton", "a title before an author");
  assert.equal(titleOf(catalog.match({ name: "Rowling" })), "Harry Potter and the Philosopher's Stone");
  assert.equal(titleOf(catalog.match({ name: "tolkien hobbit" })), "The Hobbit");
});

Deno.test("a name that fits several books is ambiguous and names the closest, oldest first", () => {
  const tolkien = catalog.match({ name: "Tolkien" });
  assert.equal(tolkien.kind, "ambiguous");
  assert.deepEqual(closestOf(tolkien), ["The Hobbit", "The Fellowship of the Ring", "The Silmarillion"]);
  assert.deepEqual(closestOf(catalog.match({ name: "Road" })), ["On the Road", "The Road"]);
  assert.deepEqual(closestOf(catalog.match({ name: "Discworld" })), ["The Colour of Magic", "Guards! Guards!"]);
  assert.equal(catalog.match({ name: "Orwell" }).kind, "ambiguous");
});

Deno.test("a name that fits no book is unknown, with the books sharing most of its words", () => {
  assert.deepEqual(catalog.match({ name: "The Necronomicon of Deno" }), { kind: "unknown", closest: [] });
  const typo = catalog.match({ name: "Harry Poter" });
  assert.equal(typo.kind, "unknown");
  assert.deepEqual(closestOf(typo), ["Harry Potter and the Philosopher's Stone"]);
  assert.deepEqual(closestOf(catalog.match({ name: "Lord of the Ringz" })), ["The Fellowship of the Ring"]);
  assert.deepEqual(catalog.match({ name: "the of and" }), { kind: "unknown", closest: [] }, "only small words");
  assert.deepEqual(catalog.match({ name: "" }), { kind: "unknown", closest: [] });
});

Deno.test("several books of a series make its name ambiguous: the first volume is not guessed", () => {
  const book = (bookId: string, title: string, year: number): CatalogBook => ({
    bookId,
    title,
    author: "J. K. Rowling",
    series: "Harry Potter",
    year,
    genres: ["fantasy"],
    description: "A wizard at school.",
    price: 10,
    stock: 1,
  });
  const two = new Catalog([
    book("hp2", "Harry Potter and the Chamber of Secrets", 1998),
    book("hp1", "Harry Potter and the Philosopher's Stone", 1997),
  ]);
  const resolution = two.match({ name: "Harry Potter" });
  assert.equal(resolution.kind, "ambiguous");
  assert.deepEqual(closestOf(resolution), [
    "Harry Potter and the Philosopher's Stone",
    "Harry Potter and the Chamber of Secrets",
  ]);
  assert.equal(two.resolve({ name: "Harry Potter Chamber" })?.bookId, "hp2");
});

/** Names made of catalog words (so that they often match), small words and noise. */
const names = fc.array(
  fc.oneof(
    fc.constantFrom(...new Set(catalog.books.flatMap((b) => words(`${b.title} ${b.author} ${b.series ?? ""}`)))),
    fc.constantFrom("the", "of", "and", "a"),
    fc.string({ maxLength: 6 }),
  ),
  { maxLength: 8 },
).map((parts) => parts.join(" "));

Deno.test("resolution is the same whatever order the catalog holds its books in", () => {
  const reversed = new Catalog([...catalog.books].reverse());
  fc.assert(
    fc.property(names, (name) => {
      assert.deepEqual(reversed.match({ name }), catalog.match({ name }));
    }),
    { numRuns: 500 },
  );
});

Deno.test("a loosely matched book has a word starting with each of the name's words; the closest are few", () => {
  fc.assert(
    fc.property(names, (name) => {
      const resolution = catalog.match({ name });
      if (resolution.kind !== "found") {
        assert.ok(resolution.closest.length <= MAX_CLOSEST_TITLES);
        return;
      }
      const { book } = resolution;
      if (words(name).join(" ") === words(book.title).join(" ")) return;
      const fields = words(`${book.title} ${book.series ?? ""} ${book.author}`);
      for (const word of keyWords(name)) {
        assert.ok(fields.some((field) => field.startsWith(word)), `"${name}" → ${book.title}: nothing for "${word}"`);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("the bound on a name's words changes no answer: no book has more words to match", () => {
  const most = Math.max(...catalog.books.map((b) => keyWords(`${b.title} ${b.series ?? ""} ${b.author}`).length));
  assert.ok(most <= MAX_NAME_WORDS, `a book has ${most} words`);
  const every = keyWords(`${catalog.books[0].title} ${catalog.books[0].author}`);
  const long = [...every, ...Array.from({ length: MAX_NAME_WORDS }, (_, i) => `x${i}`)].join(" ");
  assert.equal(catalog.match({ name: long }).kind, "unknown");
});
