/**
 * Orders for tests: valid by default, each with its own card and contact so
 * that velocity rules never see two tests as one customer.
 *
 * @module
 */
import type { ReasonCode } from "../../lib/contracts/reasons.ts";

/** A Luhn-valid card number with the given prefix and length. */
export function cardNumber(prefix = "4", length = 16): string {
  let digits = prefix;
  while (digits.length < length - 1) digits += String(Math.floor(Math.random() * 10));
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + String((10 - (sum % 10)) % 10);
}

/** An expiry date two years from now, "MM/YY". */
export function futureExpiry(): string {
  const now = new Date();
  return `${String(now.getUTCMonth() + 1).padStart(2, "0")}/${String(now.getUTCFullYear() + 2).slice(2)}`;
}

/** A valid order in the seeds' JSON shape. */
export function validOrder(overrides: Record<string, unknown> = {}) {
  const tag = crypto.randomUUID().slice(0, 8);
  return {
    user: { name: "Ada Lovelace", contact: `ada.${tag}@example.com` },
    creditCard: { number: cardNumber(), expirationDate: futureExpiry(), cvv: "123" },
    userComment: "Please deliver after 5pm",
    items: [{ name: "Dune", quantity: 1 }, { bookId: "foundation", quantity: 2 }],
    billingAddress: { street: "Narva mnt 18", city: "Tartu", state: "Tartumaa", zip: "51009", country: "EE" },
    shippingMethod: "Standard",
    giftWrapping: false,
    termsAccepted: true,
    ...overrides,
  };
}

/**
 * An order the checkout rejects: what is wrong with it, the fields that make
 * it so (over {@linkcode validOrder}), words its reason must contain, and
 * the field the reason is about (its path in the order, dotted: what a check
 * issue's `path.join(".")` gives).
 */
export interface Rejection {
  /** What is wrong, for the test's name. */
  what: string;
  /** The fields replaced in a valid order. */
  overrides: Record<string, unknown>;
  /** Words the rejection's reason contains. */
  reason: RegExp;
  /** The field the reason is about. */
  field: string;
  /** The reason's code. */
  code: ReasonCode;
}

/**
 * Orders every checkout must reject, with their reasons: the end-to-end
 * checkout test sends each to the orchestrator, and the checkout form's
 * schema must refuse the same ones (those it can judge) on the same field.
 */
export const REJECTIONS: readonly Rejection[] = [
  {
    what: "an expired card",
    overrides: { creditCard: { number: cardNumber(), expirationDate: "01/20", cvv: "123" } },
    reason: /expired/,
    field: "creditCard.expirationDate",
    code: "card.expired",
  },
  {
    what: "a card number failing Luhn",
    overrides: { creditCard: { number: "4111111111111112", expirationDate: "12/39", cvv: "123" } },
    reason: /checksum/,
    field: "creditCard.number",
    code: "card.luhn",
  },
  { what: "empty items", overrides: { items: [] }, reason: /no items/, field: "items", code: "items.empty" },
  {
    what: "an unknown book",
    overrides: { items: [{ name: "The Necronomicon of Deno", quantity: 1 }] },
    reason: /unknown book "The Necronomicon of Deno"/,
    field: "items.0.name",
    code: "items.unknown_book",
  },
  {
    what: "a missing name",
    overrides: { user: { name: "", contact: `x.${crypto.randomUUID()}@example.com` } },
    reason: /name is missing/,
    field: "user.name",
    code: "user.name",
  },
  {
    what: "terms not accepted",
    overrides: { termsAccepted: false },
    reason: /terms and conditions were not accepted/,
    field: "termsAccepted",
    code: "order.terms",
  },
  {
    what: "a zero quantity",
    overrides: { items: [{ bookId: "dune", quantity: 0 }] },
    reason: /quantity of "dune" must be at least 1/,
    field: "items.0.quantity",
    code: "items.quantity",
  },
  {
    what: "a postal code of another shape",
    overrides: {
      billingAddress: { street: "1 Main St", city: "Springfield", state: "IL", zip: "ABCDE", country: "US" },
    },
    reason: /postal code does not have the shape of one in United States/,
    field: "billingAddress.zip",
    code: "address.invalid",
  },
  {
    what: "a wrong CVV length",
    overrides: { creditCard: { number: cardNumber("34", 15), expirationDate: "12/39", cvv: "123" } },
    reason: /amex CVV has 4 digits/,
    field: "creditCard.cvv",
    code: "card.cvv",
  },
];
