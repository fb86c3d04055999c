/**
 * Rejection reasons in words a shopper understands. The services word their
 * reasons for people already; this turns the internal ones (the fraud model's
 * features, service names, error codes) into advice.
 *
 * @module
 */

const REWORDINGS: [RegExp, string][] = [
  [/^risk model: /, "Our fraud checks flagged this order: "],
  [/velocity|too many orders/i, "Too many orders were placed with these details in a short time. Please wait a while."],
  [/disposable e-mail/i, "Please use a permanent e-mail address, not a disposable one."],
  [
    /^(\w+) is unavailable|unreachable|did not answer/i,
    "Part of the shop is not answering right now. Please try again in a moment.",
  ],
  [/out of stock/i, "Some of the books ran out of stock before your order could be packed."],
];

/** A reason as a shopper should read it: a sentence, reworded where it was internal. */
export function shopperReason(reason: string): string {
  for (const [pattern, replacement] of REWORDINGS) {
    if (pattern.test(reason)) {
      const text = replacement.endsWith(": ") ? replacement + reason.replace(pattern, "") : replacement;
      return sentence(text);
    }
  }
  return sentence(reason);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
