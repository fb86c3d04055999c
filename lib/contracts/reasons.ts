/**
 * Why an order was refused, as a stable machine code beside the sentence a
 * person reads. The checks give every problem its code; the wire carries the
 * coded `rejections` beside the plain `reasons` (each reason is the message
 * of the rejection at the same index), and the shop words a rejection by its
 * code, never by its text.
 *
 * @module
 */
import { z } from "zod";
import { message, str } from "./wire.ts";

/** Every reason code, with what it means. Codes are stable: add new ones, never rename or reuse one. */
export const REASON_CODES = {
  "items.empty": "the order has no items",
  "items.unknown_book": "an item names no book, or one the catalog does not have",
  "items.ambiguous_book": "an item's name fits more than one book",
  "items.quantity": "an item's quantity is below 1 or above the per-line limit",
  "items.too_many": "the order has more books, or more different books, than one order may",
  "user.name": "the customer's name is missing, too short or not plain text",
  "user.contact": "the contact is missing or neither an e-mail address nor a phone number",
  "user.comment": "the comment is not plain text",
  "address.invalid": "the billing address is incomplete, somewhere we do not ship, or inconsistent",
  "order.shipping_method": "the shipping method is not one on offer",
  "order.terms": "the terms and conditions were not accepted",
  "card.number": "the card number is missing, malformed or of the wrong length",
  "card.luhn": "the card number fails its checksum",
  "card.brand": "the card's brand is not accepted",
  "card.expiry": "the expiry date is missing, malformed or implausible",
  "card.expired": "the card has expired",
  "card.cvv": "the CVV is malformed or of the wrong length for the brand",
  "fraud.risk": "the order's fraud risk score is too high (the reasons after it say why)",
  "fraud.disposable_contact": "the contact is at a disposable e-mail domain",
  "fraud.suspicious_name": "the customer's name looks made up",
  "fraud.velocity": "the contact or card placed many orders in a short time",
  "fraud.large_order": "an unusually large quantity or amount",
  "fraud.brand_country": "the card's brand is unusual for the billing country",
  "fraud.model": "the trained risk model flagged one of the order's features",
  "stock.out_of_stock": "a book ran out of stock before the order was executed",
  "execution.gave_up": "the queue gave up executing the order after repeated failures",
  "service.unavailable": "a service the order needed could not be reached",
  "other": "anything without a code of its own (and reasons from before codes existed)",
} as const;

/** A stable code of why an order was refused. */
export type ReasonCode = keyof typeof REASON_CODES;

/**
 * A reason code on the wire. Absent, or one this build does not know (a newer
 * peer's), reads as `other`, so a new code never makes an answer unreadable.
 */
export const reasonCodeSchema = z.enum(Object.keys(REASON_CODES) as [ReasonCode, ...ReasonCode[]]).catch("other");

/** The `Rejection` message. */
export const rejectionSchema = message(
  "Rejection",
  z.object({
    code: reasonCodeSchema,
    message: str(500),
    field: str(128),
  }),
);

/** One reason an order was refused: its code, the sentence a person reads, and the order field it is about ("" for none). */
export type Rejection = z.infer<typeof rejectionSchema>;

/** A rejection with `code` and `message`, about `field` (a dotted path in the order) when given. */
export function rejection(code: ReasonCode, text: string, options: { field?: string } = {}): Rejection {
  return { code, message: text, field: options.field ?? "" };
}

/** The plain `reasons` sent beside `rejections`: their messages, in order. */
export function reasonsOf(rejections: readonly Rejection[]): string[] {
  return rejections.map((r) => r.message);
}

/**
 * The rejections of an answer that has `reasons` and maybe `rejections`: the
 * rejections when they match the reasons one for one, otherwise each reason
 * coded `other` (a record or a peer from before codes existed).
 */
export function codedReasons(answer: { reasons: readonly string[]; rejections?: readonly Rejection[] }): Rejection[] {
  const { reasons, rejections = [] } = answer;
  const match = rejections.length === reasons.length && rejections.every((r, i) => r.message === reasons[i]);
  return match ? [...rejections] : reasons.map((reason) => rejection("other", reason));
}

const MODEL_PREFIX = "risk model: ";

/** The message of a `fraud.model` rejection naming the model's feature `label`. */
export function modelReason(label: string): string {
  return MODEL_PREFIX + label;
}

/** The feature label a `fraud.model` rejection's message names (the whole message if it names none). */
export function modelLabel(text: string): string {
  return text.startsWith(MODEL_PREFIX) ? text.slice(MODEL_PREFIX.length) : text;
}
