import assert from "node:assert/strict";
import fc from "fast-check";
import { loadCatalog } from "@bookstore/lib/catalog";
import { orderSchema, placeOrderResponseSchema } from "@bookstore/lib/contracts";
import { checkCard, checkExpiry, checkUserData, detectBrand, luhnValid } from "@bookstore/lib/checks";
import { checkItems, MAX_ECHOED_NAME } from "./checks.ts";

const NOW = new Date("2026-11-21T12:00:00Z");
const order = (patch: Record<string, unknown> = {}) =>
  orderSchema.parse({
    user: { name: "Grace Hopper", contact: "grace@example.com" },
    creditCard: { number: "4111 1111 1111 1111", expirationDate: "12/28", cvv: "123" },
    items: [{ name: "Dune", quantity: 1 }],
    billingAddress: { street: "1 Main St", city: "Arlington", state: "VA", zip: "22201", country: "US" },
    shippingMethod: "Express",
    termsAccepted: true,
    ...patch,
  });

Deno.test("Luhn accepts valid numbers and rejects a changed digit", () => {
  assert.ok(luhnValid("4111111111111111"));
  assert.ok(luhnValid("378282246310005"));
  assert.ok(!luhnValid("4111111111111112"));
  assert.ok(!luhnValid(""));
});

Deno.test("brands are told apart by prefix", () => {
  assert.equal(detectBrand("4111111111111111")?.name, "visa");
  assert.equal(detectBrand("5555555555554444")?.name, "mastercard");
  assert.equal(detectBrand("2223003122003222")?.name, "mastercard");
  assert.equal(detectBrand("378282246310005")?.name, "amex");
  assert.equal(detectBrand("6011111111111117")?.name, "discover");
  assert.equal(detectBrand("3530111333300000")?.name, "jcb");
  assert.equal(detectBrand("9999999999999995"), undefined);
});

Deno.test("a card is good through the last day of its expiry month", () => {
  assert.deepEqual(checkExpiry("11/26", NOW), { ok: true });
  assert.equal(checkExpiry("10/26", NOW).ok, false);
  assert.equal(checkExpiry("13/27", NOW).ok, false);
  assert.equal(checkExpiry("1227", NOW).ok, false);
  assert.deepEqual(checkExpiry("02/2030", NOW), { ok: true });
  assert.equal(checkExpiry("01/99", NOW).ok, false, "too far in the future");
});

Deno.test("checkCard keeps only brand and last four", () => {
  const result = checkCard(order().creditCard, NOW);
  assert.deepEqual([result.ok, result.brand, result.last4], [true, "visa", "1111"]);
  const amex = checkCard({ number: "3782-822463-10005", expirationDate: "01/30", cvv: "123" }, NOW);
  assert.deepEqual(amex.reasons, ["a amex CVV has 4 digits"]);
  const letters = checkCard({ number: "4111x", expirationDate: "01/30", cvv: "12" }, NOW);
  assert.deepEqual(letters.reasons, [
    "the card number may contain only digits, spaces and dashes",
    "the CVV must be 3 or 4 digits",
  ]);
});

Deno.test("items must be present, known and sanely many", () => {
  const catalog = loadCatalog();
  assert.ok(checkItems(order(), catalog).ok);
  assert.deepEqual(checkItems(order({ items: [] }), catalog).reasons, ["the order has no items"]);
  assert.deepEqual(checkItems(order({ items: [{ bookId: "dune", quantity: 51 }] }), catalog).reasons, [
    'quantity of "dune" is more than 50',
  ]);
  assert.deepEqual(checkItems(order({ items: [{ quantity: 1 }] }), catalog).reasons, [
    "item 1 names no book (give a bookId or a name)",
  ]);
  assert.ok(checkItems(order({ items: [{ name: "  dune ", quantity: 2 }] }), catalog).ok, "titles match loosely");
});

Deno.test("items named as a person types them are the books they clearly mean", () => {
  const catalog = loadCatalog();
  const seeds = order({ items: [{ name: "Harry Potter", quantity: 1 }, { name: "Lord of the Ring", quantity: 2 }] });
  assert.deepEqual(checkItems(seeds, catalog).reasons, []);
});

Deno.test("an unknown or ambiguous name is refused, naming the closest titles to ask for", () => {
  const catalog = loadCatalog();
  const reasons = (name: string) => checkItems(order({ items: [{ name, quantity: 1 }] }), catalog);
  assert.deepEqual(reasons("Tolkien").reasons, [
    'ambiguous book "Tolkien": did you mean "The Hobbit", "The Fellowship of the Ring" or "The Silmarillion"?',
  ]);
  assert.deepEqual(reasons("Tolkien").issues.map((issue) => issue.path.join(".")), ["items.0.name"]);
  assert.deepEqual(reasons("Harry Poter").reasons, [
    `unknown book "Harry Poter": did you mean "Harry Potter and the Philosopher's Stone"?`,
  ]);
  assert.deepEqual(reasons("Road").reasons, ['ambiguous book "Road": did you mean "On the Road" or "The Road"?']);
  assert.deepEqual(reasons("The Necronomicon of Deno").reasons, ['unknown book "The Necronomicon of Deno"']);
  const byId = checkItems(order({ items: [{ bookId: "harry-potter", quantity: 1 }] }), catalog);
  assert.deepEqual(byId.issues.map((issue) => issue.path.join(".")), ["items.0.bookId"]);
  assert.match(
    byId.reasons[0],
    /^unknown book "harry-potter": did you mean "Harry Potter and the Philosopher's Stone"\?$/,
  );
});

Deno.test("a client's book name is echoed on one line and cut short, so every reason fits the answer", () => {
  const catalog = loadCatalog();
  const long = `Tolkien ${"x".repeat(200)}`;
  const [reason] = checkItems(order({ items: [{ name: long, quantity: 1 }] }), catalog).reasons;
  assert.equal(
    reason,
    `unknown book "Tolkien ${
      "x".repeat(MAX_ECHOED_NAME - 9)
    }…": did you mean "The Hobbit", "The Fellowship of the Ring" or "The Silmarillion"?`,
  );
  const [broken] =
    checkItems(order({ items: [{ name: "Necro\u202enomicon\nof Deno", quantity: 0 }] }), catalog).reasons;
  assert.equal(broken, 'unknown book "Necro nomicon of Deno"');
  fc.assert(
    fc.property(
      fc.array(fc.record({ name: fc.string({ maxLength: 300 }), quantity: fc.integer() }), {
        minLength: 1,
        maxLength: 5,
      }),
      (items) => {
        const { reasons } = checkItems(order({ items }), catalog);
        placeOrderResponseSchema.parse({ orderId: "o", status: "Order Rejected", reasons });
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("user data, address, shipping and terms", () => {
  assert.ok(checkUserData(order()).ok);
  const bad = checkUserData(order({
    user: { name: "", contact: "not a contact" },
    billingAddress: { street: "", city: "X", state: "", zip: "123", country: "US" },
    shippingMethod: "Teleport",
    termsAccepted: false,
  }));
  assert.deepEqual(bad.reasons, [
    "the customer's name is missing",
    "the contact is neither an e-mail address nor a phone number",
    "billing address: street is missing",
    "billing address: state is required in United States",
    "billing address: the postal code does not have the shape of one in United States",
    "shipping method must be one of Standard, Express, Next-Day",
    "the terms and conditions were not accepted",
  ]);
  assert.ok(checkUserData(order({ user: { name: "Li Wei", contact: "+372 5555 1234" } })).ok, "phone numbers work");
  const nowhere = checkUserData(order({
    billingAddress: { street: "1", city: "2", state: "", zip: "1", country: "Atlantis" },
  }));
  assert.deepEqual(nowhere.reasons, ['billing address: we do not ship to "Atlantis"']);
});

Deno.test("control characters and bidirectional overrides in user data are refused, naming the field", () => {
  const result = checkUserData(order({
    user: { name: "Ada\u0000", contact: "ada@example.com\u202e" },
    userComment: "leave it\nat the door\u0007",
    billingAddress: { street: "1 Main St", city: "Arl\u001bington", state: "VA", zip: "22201", country: "US" },
  }));
  assert.deepEqual(result.issues.map((i) => i.path.join(".")), [
    "user.name",
    "user.contact",
    "userComment",
    "billingAddress.city",
  ]);
  assert.ok(result.reasons.every((r) => /control characters/.test(r)));
  assert.ok(
    checkUserData(order({ userComment: "line one\nline two\ttabbed" })).ok,
    "line breaks in a comment are fine",
  );
});

Deno.test("each problem a check finds carries its code, and its rejection the field it is about", () => {
  const card = checkCard({ number: "4111 1111 1111 1112", expirationDate: "10/26", cvv: "12" }, NOW);
  assert.deepEqual(card.issues.map((issue) => issue.code), ["card.luhn", "card.expired", "card.cvv"]);
  assert.deepEqual(card.rejections.map((r) => [r.code, r.field]), [
    ["card.luhn", "creditCard.number"],
    ["card.expired", "creditCard.expirationDate"],
    ["card.cvv", "creditCard.cvv"],
  ]);
  assert.deepEqual(card.rejections.map((r) => r.message), card.reasons);
  const malformed = checkCard({ number: "", expirationDate: "13/27", cvv: "123" }, NOW);
  assert.deepEqual(malformed.issues.map((issue) => issue.code), ["card.number", "card.expiry"]);
  const user = checkUserData(order({ user: { name: "", contact: "nobody" }, termsAccepted: false }));
  assert.deepEqual(user.issues.map((issue) => issue.code), ["user.name", "user.contact", "order.terms"]);
  const catalog = loadCatalog();
  assert.deepEqual(checkItems(order({ items: [] }), catalog).rejections, [
    { code: "items.empty", message: "the order has no items", field: "items" },
  ]);
  const items = checkItems(
    order({ items: [{ name: "Tolkien", quantity: 1 }, { name: "The Necronomicon of Deno", quantity: 51 }] }),
    catalog,
  );
  assert.deepEqual(items.rejections.map((r) => [r.code, r.field]), [
    ["items.ambiguous_book", "items.0.name"],
    ["items.unknown_book", "items.1.name"],
    ["items.quantity", "items.1.quantity"],
  ]);
});
