import assert from "node:assert/strict";
import {
  brandCountryMismatch,
  cardRules,
  isDisposableContact,
  isSuspiciousName,
  ruleScore,
  userDataRules,
} from "./rules.ts";

Deno.test("disposable contacts and made-up names are recognised", () => {
  assert.ok(isDisposableContact("someone@Mailinator.com"));
  assert.ok(!isDisposableContact("someone@example.com"));
  assert.ok(!isDisposableContact("+372 5555 1234"));
  assert.ok(isSuspiciousName("Bob"));
  assert.ok(isSuspiciousName("John Smith2"));
  assert.ok(isSuspiciousName("Aaaa Bbbb"));
  assert.ok(!isSuspiciousName("Ada Lovelace"));
});

Deno.test("regional brands outside their home region are a mismatch", () => {
  assert.ok(brandCountryMismatch("jcb", "US"));
  assert.ok(!brandCountryMismatch("jcb", "Japan"));
  assert.ok(!brandCountryMismatch("visa", "US"));
});

Deno.test("rules add up to a capped score with reasons", () => {
  const quiet = userDataRules({
    name: "Ada Lovelace",
    contact: "ada@example.com",
    contactVelocity: 1,
    totalQuantity: 2,
    orderAmount: 30,
  });
  assert.deepEqual(quiet, []);
  const loud = [
    ...userDataRules({ name: "x", contact: "x@yopmail.com", contactVelocity: 9, totalQuantity: 80, orderAmount: 2000 }),
    ...cardRules({ brand: "unionpay", country: "DE", cardVelocity: 7 }),
  ];
  assert.equal(loud.length, 7);
  assert.equal(ruleScore(loud), 100);
  assert.ok(loud.some((hit) => hit.reason === "this card was used for 7 orders in the last 10 minutes"));
  assert.deepEqual(loud.map((hit) => hit.code), [
    "fraud.disposable_contact",
    "fraud.suspicious_name",
    "fraud.velocity",
    "fraud.large_order",
    "fraud.large_order",
    "fraud.velocity",
    "fraud.brand_country",
  ]);
});
