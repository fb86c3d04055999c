import assert from "node:assert/strict";
import { modelReason, rejection } from "@bookstore/lib/contracts";
import { shopperReason, shopperSentence } from "./reasons.ts";

Deno.test("internal reasons are worded by their code, whatever their message says", () => {
  assert.equal(
    shopperReason(rejection("stock.out_of_stock", "out of stock: dune (wanted 2, 1 left)")),
    "Some of the books ran out of stock before your order could be packed.",
  );
  assert.equal(
    shopperReason(rejection("fraud.velocity", "7 orders from this contact in the last 10 minutes")),
    "Too many orders were placed with these details in a short time. Please wait a while.",
  );
  assert.equal(
    shopperReason(rejection("fraud.disposable_contact", "any text")),
    "Please use a permanent e-mail address, not a disposable one.",
  );
  assert.equal(
    shopperReason(rejection("service.unavailable", "fraud_detection could not be reached: timeout")),
    "Part of the shop is not answering right now. Please try again in a moment.",
  );
  assert.equal(
    shopperReason(rejection("fraud.model", modelReason("an unusually large quantity"))),
    "Our fraud checks flagged this order: an unusually large quantity.",
  );
});

Deno.test("a code without a wording of its own shows the server's message as a sentence", () => {
  assert.equal(
    shopperReason(rejection("fraud.risk", "fraud risk 85/100 is too high")),
    "Fraud risk 85/100 is too high.",
  );
  assert.equal(
    shopperReason(rejection("card.expired", "the card expired at the end of 01/20")),
    "The card expired at the end of 01/20.",
  );
});

Deno.test("the wording follows the code, never the text: the same words under another code are not reworded", () => {
  assert.equal(shopperReason(rejection("other", "out of stock: dune")), "Out of stock: dune.");
  assert.equal(
    shopperReason(rejection("other", "risk model: a disposable e-mail")),
    "Risk model: a disposable e-mail.",
  );
  assert.equal(shopperReason(rejection("items.unknown_book", 'unknown book "velocity"')), 'Unknown book "velocity".');
});

Deno.test("plain text becomes a sentence", () => {
  assert.equal(shopperSentence("  the shop is closed "), "The shop is closed.");
  assert.equal(shopperSentence("Already done!"), "Already done!");
});
