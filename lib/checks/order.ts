/**
 * The checks of an order that need nothing but the order itself: user data
 * and billing address (event b) and the card (event c). Pure functions, so
 * the same code runs in transaction verification and in the browser's
 * checkout form (through `checkoutFormSchema`). Each problem names the field
 * it is about and says what a person can do about it.
 *
 * @module
 */
import type { Order } from "../contracts/common.ts";
import { findCountry, zipMatches } from "../countries.ts";
import { type ReasonCode, type Rejection, rejection } from "../contracts/reasons.ts";
import { cardDigits, checkExpiry, detectBrand, luhnValid } from "./card.ts";

/** The shipping methods on offer. */
export const SHIPPING_METHODS = ["Standard", "Express", "Next-Day"] as const;

/** One problem found by a check, with the path of the field it is about. */
export interface CheckIssue {
  /** Field path in the order, e.g. `["creditCard", "cvv"]`. */
  path: string[];
  /** What is wrong, in words a person can act on. */
  message: string;
  /** The stable code of what is wrong. */
  code: ReasonCode;
}

/** A check's verdict. */
export interface CheckResult {
  /** Whether the check passed. */
  ok: boolean;
  /** Why not, one sentence per problem. */
  reasons: string[];
  /** The same problems with the fields they are about. */
  issues: CheckIssue[];
  /** The same problems as the wire carries them, with their codes. */
  rejections: Rejection[];
}

/** Builds a verdict from the problems found. */
export function verdict(issues: CheckIssue[]): CheckResult {
  const rejections = issues.map((issue) => rejection(issue.code, issue.message, { field: issue.path.join(".") }));
  return { ok: issues.length === 0, reasons: issues.map((issue) => issue.message), issues, rejections };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const PHONE = /^\+?[0-9 ()-]{7,20}$/;

/**
 * Whether `text` holds a C0 or C1 control character or a bidirectional
 * override (which makes text display other than it reads); with
 * `allowLineBreaks`, tabs and line breaks are fine (free text).
 */
function hasControlCharacters(text: string, options: { allowLineBreaks?: boolean } = {}): boolean {
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (options.allowLineBreaks && (code === 0x09 || code === 0x0a || code === 0x0d)) continue;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}

/** Event b: name, contact, billing address, shipping method and the terms. */
export function checkUserData(order: Order): CheckResult {
  const issues: CheckIssue[] = [];
  const add = (path: string[], message: string, code: ReasonCode) => issues.push({ path, message, code });
  const name = order.user.name.trim();
  if (hasControlCharacters(order.user.name)) {
    add(["user", "name"], "the customer's name contains control characters", "user.name");
  } else if (name === "") add(["user", "name"], "the customer's name is missing", "user.name");
  else if (name.length < 2) add(["user", "name"], "the customer's name is too short", "user.name");
  const contact = order.user.contact.trim();
  if (hasControlCharacters(order.user.contact)) {
    add(["user", "contact"], "the contact contains control characters", "user.contact");
  } else if (contact === "") {
    add(["user", "contact"], "the customer's contact (e-mail or phone) is missing", "user.contact");
  } else if (!EMAIL.test(contact) && !PHONE.test(contact)) {
    // Not echoed: reasons are stored with the order and shown with its events.
    add(["user", "contact"], "the contact is neither an e-mail address nor a phone number", "user.contact");
  }
  if (hasControlCharacters(order.userComment, { allowLineBreaks: true })) {
    add(["userComment"], "the comment contains control characters", "user.comment");
  }
  issues.push(...checkAddress(order.billingAddress));
  if (!(SHIPPING_METHODS as readonly string[]).includes(order.shippingMethod)) {
    add(["shippingMethod"], `shipping method must be one of ${SHIPPING_METHODS.join(", ")}`, "order.shipping_method");
  }
  if (!order.termsAccepted) add(["termsAccepted"], "the terms and conditions were not accepted", "order.terms");
  return verdict(issues);
}

function checkAddress(address: Order["billingAddress"]): CheckIssue[] {
  const issues: CheckIssue[] = [];
  const add = (field: keyof Order["billingAddress"], message: string) =>
    issues.push({ path: ["billingAddress", field], message, code: "address.invalid" });
  for (const field of ["street", "city", "state", "zip", "country"] as const) {
    if (hasControlCharacters(address[field])) add(field, `billing address: ${field} contains control characters`);
    else if (field !== "state" && address[field].trim() === "") add(field, `billing address: ${field} is missing`);
  }
  if (address.country.trim() === "") return issues;
  const country = findCountry(address.country);
  if (!country) {
    add("country", `billing address: we do not ship to "${address.country}"`);
    return issues;
  }
  if (country.needsState && address.state.trim() === "") {
    add("state", `billing address: state is required in ${country.name}`);
  }
  if (address.zip.trim() !== "" && !zipMatches(country, address.zip)) {
    add("zip", `billing address: the postal code does not have the shape of one in ${country.name}`);
  }
  return issues;
}

/** What a valid card yields: no number, no CVV. */
export interface CardCheck extends CheckResult {
  /** Brand, when recognised. */
  brand?: string;
  /** Last four digits, when the number is well-formed. */
  last4?: string;
  /** The digits, for the fingerprint only; never stored or sent. */
  digits?: string;
}

/** Event c: number (Luhn, brand, length), expiry (relative to `now`) and CVV. */
export function checkCard(card: Order["creditCard"], now: Date): CardCheck {
  const issues: CheckIssue[] = [];
  const add = (field: keyof Order["creditCard"], message: string, code: ReasonCode) =>
    issues.push({ path: ["creditCard", field], message, code });
  const digits = cardDigits(card.number);
  const brand = digits ? detectBrand(digits) : undefined;
  if (card.number.trim() === "") add("number", "the card number is missing", "card.number");
  else if (!digits) add("number", "the card number may contain only digits, spaces and dashes", "card.number");
  else if (digits.length < 12 || digits.length > 19) {
    add("number", "the card number has an implausible length", "card.number");
  } else if (!luhnValid(digits)) add("number", "the card number is invalid (checksum failed)", "card.luhn");
  else if (!brand) add("number", "the card brand is not accepted", "card.brand");
  else if (!brand.lengths.includes(digits.length)) {
    add("number", `a ${brand.name} card number has ${brand.lengths.join(" or ")} digits`, "card.number");
  }
  if (card.expirationDate.trim() === "") add("expirationDate", "the card's expiration date is missing", "card.expiry");
  else {
    const expiry = checkExpiry(card.expirationDate, now);
    if (!expiry.ok) add("expirationDate", expiry.reason, expiry.expired ? "card.expired" : "card.expiry");
  }
  const cvvLength = brand?.cvvLength;
  if (!/^\d{3,4}$/.test(card.cvv)) add("cvv", "the CVV must be 3 or 4 digits", "card.cvv");
  else if (cvvLength !== undefined && card.cvv.length !== cvvLength) {
    add("cvv", `a ${brand!.name} CVV has ${cvvLength} digits`, "card.cvv");
  }
  return {
    ...verdict(issues),
    brand: brand?.name,
    last4: digits && digits.length >= 12 ? digits.slice(-4) : undefined,
    digits,
  };
}
