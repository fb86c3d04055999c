/**
 * Card checks: Luhn, brand and length, expiry, CVV. Pure functions, run by
 * transaction verification and by the browser as the customer types.
 *
 * @module
 */

/** A card brand recognised by its number prefix. */
export interface Brand {
  /** Lowercase brand name. */
  name: string;
  /** Whether a number starts like this brand. */
  matches: (digits: string) => boolean;
  /** Valid lengths of the number. */
  lengths: readonly number[];
  /** Length of the CVV. */
  cvvLength: number;
}

const prefixIn = (digits: string, size: number, low: number, high: number) => {
  const prefix = Number(digits.slice(0, size));
  return digits.length >= size && prefix >= low && prefix <= high;
};

/** Brands in the order they are tried. */
export const BRANDS: readonly Brand[] = [
  { name: "amex", matches: (d) => /^3[47]/.test(d), lengths: [15], cvvLength: 4 },
  {
    name: "mastercard",
    matches: (d) => prefixIn(d, 2, 51, 55) || prefixIn(d, 4, 2221, 2720),
    lengths: [16],
    cvvLength: 3,
  },
  { name: "visa", matches: (d) => d.startsWith("4"), lengths: [13, 16, 19], cvvLength: 3 },
  {
    name: "discover",
    matches: (d) => d.startsWith("6011") || d.startsWith("65") || prefixIn(d, 3, 644, 649),
    lengths: [16, 17, 18, 19],
    cvvLength: 3,
  },
  { name: "jcb", matches: (d) => prefixIn(d, 4, 3528, 3589), lengths: [16, 17, 18, 19], cvvLength: 3 },
  {
    name: "diners",
    matches: (d) => /^3(0[0-5]|[68])/.test(d),
    lengths: [14, 15, 16, 17, 18, 19],
    cvvLength: 3,
  },
  { name: "unionpay", matches: (d) => d.startsWith("62"), lengths: [16, 17, 18, 19], cvvLength: 3 },
];

/** The digits of a card number typed with optional spaces or dashes; `undefined` if anything else is in it. */
export function cardDigits(number: string): string | undefined {
  const compact = number.replace(/[ -]/g, "");
  return /^\d+$/.test(compact) ? compact : undefined;
}

/** Whether `digits` pass the Luhn checksum. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** The brand of a card number, if any is recognised. */
export function detectBrand(digits: string): Brand | undefined {
  return BRANDS.find((brand) => brand.matches(digits));
}

/**
 * Parses "MM/YY" (also "MM/YYYY") and tells whether the card is still valid
 * on `now`: a card is good through the last day of its expiry month.
 * `expired` tells a past date from one that is malformed or implausible.
 */
export function checkExpiry(
  value: string,
  now: Date,
): { ok: true } | { ok: false; reason: string; expired: boolean } {
  const match = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(value.trim());
  if (!match) return { ok: false, reason: `expiration date "${value}" is not in MM/YY format`, expired: false };
  const month = Number(match[1]);
  if (month < 1 || month > 12) {
    return { ok: false, reason: `expiration month ${match[1]} is not between 01 and 12`, expired: false };
  }
  const year = match[2].length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  const firstOfNextMonth = Date.UTC(year, month, 1);
  if (firstOfNextMonth <= now.getTime()) {
    return {
      ok: false,
      reason: `the card expired at the end of ${match[1].padStart(2, "0")}/${String(year).slice(2)}`,
      expired: true,
    };
  }
  if (year > now.getUTCFullYear() + 20) {
    return { ok: false, reason: "expiration date is implausibly far in the future", expired: false };
  }
  return { ok: true };
}
