/**
 * Rejection reasons in words a shopper understands, chosen by each reason's
 * code (`REASON_CODES` in `@bookstore/lib/contracts`). The services word
 * their reasons for people already, so most codes keep the server's message;
 * the internal ones (the fraud model's features, velocity counts, services
 * that did not answer, the queue's stock check) become advice. The text of a
 * message is never inspected to decide its wording.
 *
 * @module
 */
import { modelLabel, type ReasonCode, type Rejection } from "@bookstore/lib/contracts";

/** What the shop needs of a reason: its code and the server's message. */
export type CodedReason = Pick<Rejection, "code" | "message">;

const WORDINGS: Partial<Record<ReasonCode, (reason: CodedReason) => string>> = {
  "fraud.model": (reason) => `Our fraud checks flagged this order: ${modelLabel(reason.message)}`,
  "fraud.velocity": () => "Too many orders were placed with these details in a short time. Please wait a while.",
  "fraud.disposable_contact": () => "Please use a permanent e-mail address, not a disposable one.",
  "service.unavailable": () => "Part of the shop is not answering right now. Please try again in a moment.",
  "stock.out_of_stock": () => "Some of the books ran out of stock before your order could be packed.",
};

/** A reason as a shopper should read it: the wording of its code, else its message, as a sentence. */
export function shopperReason(reason: CodedReason): string {
  return shopperSentence(WORDINGS[reason.code]?.(reason) ?? reason.message);
}

/** Plain text (an error's message) as a sentence: capitalised and ending in a full stop. */
export function shopperSentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
