import assert from "node:assert/strict";
import { placeOrderResponseSchema } from "./orchestrator.ts";
import {
  codedReasons,
  modelLabel,
  modelReason,
  REASON_CODES,
  reasonCodeSchema,
  reasonsOf,
  rejection,
  rejectionSchema,
} from "./reasons.ts";

Deno.test("every reason code is documented and dotted (area.what), with other as the catch-all", () => {
  for (const [code, doc] of Object.entries(REASON_CODES)) {
    assert.ok(code === "other" || /^[a-z]+\.[a-z_]+$/.test(code), code);
    assert.ok(doc.length > 10, `${code} says what it means`);
    assert.equal(reasonCodeSchema.parse(code), code);
  }
});

Deno.test("a rejection without a code, or with one this build does not know, reads as other", () => {
  assert.deepEqual(rejectionSchema.parse({ message: "why" }), { code: "other", message: "why", field: "" });
  assert.equal(rejectionSchema.parse({ code: "card.new_check", message: "why" }).code, "other");
  assert.equal(rejectionSchema.parse({ code: "card.luhn", message: "why" }).code, "card.luhn");
});

Deno.test("an answer from before codes existed carries no rejections on the wire, and its reasons read as other", () => {
  const answer = placeOrderResponseSchema.parse({ orderId: "o1", status: "Order Rejected", reasons: ["a", "b"] });
  assert.deepEqual(answer.rejections, []);
  assert.deepEqual(codedReasons(answer), [rejection("other", "a"), rejection("other", "b")]);
});

Deno.test("rejections that match the reasons one for one are kept; the reasons are their messages", () => {
  const rejections = [rejection("card.expired", "the card expired", { field: "creditCard.expirationDate" })];
  assert.deepEqual(reasonsOf(rejections), ["the card expired"]);
  assert.deepEqual(codedReasons({ reasons: reasonsOf(rejections), rejections }), rejections);
  assert.deepEqual(codedReasons({ reasons: ["something else"], rejections }), [rejection("other", "something else")]);
});

Deno.test("a model reason names its feature, and the label reads back out of it", () => {
  assert.equal(modelLabel(modelReason("an unusually large quantity")), "an unusually large quantity");
  assert.equal(modelLabel("no prefix here"), "no prefix here");
});
