/**
 * The order as it travels: proto3's JSON mapping (omitted fields read as
 * their zero values), bounded sizes, wrong types and unknown fields refused
 * by the path of the field, and clocks that cannot count backwards.
 */
import assert from "node:assert/strict";
import { findUnknownFields } from "../rpc/unknown_fields.ts";
import { orderSchema, validationEventSchema } from "./common.ts";

const pathsOf = (result: { error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join(".")) ?? [];

Deno.test("an order with its fields omitted reads as proto3's zero values, nested messages included", () => {
  assert.deepEqual(orderSchema.parse({ user: { name: "Ada" } }), {
    user: { name: "Ada", contact: "" },
    creditCard: { number: "", expirationDate: "", cvv: "" },
    userComment: "",
    items: [],
    billingAddress: { street: "", city: "", state: "", zip: "", country: "" },
    shippingMethod: "",
    giftWrapping: false,
    termsAccepted: false,
  });
});

Deno.test("a wrong type, a fraction or an int32 overflow is refused on its field's path", () => {
  const result = orderSchema.safeParse({
    items: [{ bookId: "dune", quantity: "two" }, { bookId: "dune", quantity: 2.5 }, {
      bookId: "dune",
      quantity: 2 ** 31,
    }],
    giftWrapping: "yes",
  });
  assert.deepEqual(pathsOf(result), ["items.0.quantity", "items.1.quantity", "items.2.quantity", "giftWrapping"]);
});

Deno.test("sizes are bounded: a huge text and too many items are refused on their paths", () => {
  const result = orderSchema.safeParse({
    user: { name: "x".repeat(100_000) },
    items: Array.from({ length: 10_000 }, () => ({ bookId: "dune", quantity: 1 })),
  });
  assert.deepEqual(pathsOf(result), ["user.name", "items"]);
});

Deno.test("fields the order does not have are named, at any depth", () => {
  const body = {
    user: { name: "Ada", nickname: "ada" },
    creditCard: { number: "4111111111111111", pin: "0000" },
    items: [{ bookId: "dune", quantity: 1 }, { bookId: "dune", quantity: 1, price: 0 }],
    coupon: "FREE",
  };
  assert.deepEqual(findUnknownFields(orderSchema, body).sort(), [
    "coupon",
    "creditCard.pin",
    "items.1.price",
    "user.nickname",
  ]);
  assert.ok(orderSchema.safeParse(body).success, "known fields parse: the server refuses the rest by name first");
});

Deno.test("a recorded event's clock cannot hold a negative or fractional counter", () => {
  const event = { name: "a", service: "transaction_verification", ok: true };
  assert.ok(validationEventSchema.safeParse({ ...event, clock: { "transaction_verification.items": 1 } }).success);
  const negative = validationEventSchema.safeParse({ ...event, clock: { "transaction_verification.items": -1 } });
  assert.deepEqual(pathsOf(negative), ["clock.transaction_verification.items"]);
  const fraction = validationEventSchema.safeParse({ ...event, clock: { suggestions: 0.5 } });
  assert.deepEqual(pathsOf(fraction), ["clock.suggestions"]);
});
