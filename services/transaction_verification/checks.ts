/**
 * The three checks of transaction verification, as pure functions:
 * a (items present and known), b (mandatory user data and billing address),
 * c (card format). Each answers the reasons a person can act on.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import { MAX_DISTINCT_BOOKS, type Order } from "@bookstore/lib/contracts";
import { findCountry, zipMatches } from "@bookstore/lib/countries";
import { cardDigits, checkExpiry, detectBrand, luhnValid } from "./card.ts";

/** Largest quantity of one book in one order. */
export const MAX_LINE_QUANTITY = 50;
/** Largest number of books in one order. */
export const MAX_TOTAL_QUANTITY = 200;
/** The shipping methods on offer. */
export const SHIPPING_METHODS = ["Standard", "Express", "Next-Day"] as const;

/** A check's verdict. */
export interface CheckResult {
  /** Whether the check passed. */
  ok: boolean;
  /** Why not. */
  reasons: string[];
}

const verdict = (reasons: string[]): CheckResult => ({ ok: reasons.length === 0, reasons });

/** Event a: the order has items, every item is a known book, quantities are sane. */
export function checkItems(order: Pick<Order, "items">, catalog: Catalog): CheckResult {
  if (order.items.length === 0) return verdict(["the order has no items"]);
  const reasons: string[] = [];
  let total = 0;
  order.items.forEach((item, i) => {
    const label = item.name || item.bookId || `item ${i + 1}`;
    if (!item.name && !item.bookId) reasons.push(`item ${i + 1} names no book (give a bookId or a name)`);
    else if (!catalog.resolve(item)) reasons.push(`unknown book "${label}"`);
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      reasons.push(`quantity of "${label}" must be at least 1`);
    } else if (item.quantity > MAX_LINE_QUANTITY) {
      reasons.push(`quantity of "${label}" is more than ${MAX_LINE_QUANTITY}`);
    } else {
      total += item.quantity;
    }
  });
  if (total > MAX_TOTAL_QUANTITY) reasons.push(`the order has more than ${MAX_TOTAL_QUANTITY} books`);
  const distinct = new Set(order.items.map((item) => catalog.resolve(item)?.bookId ?? item.name ?? item.bookId));
  if (distinct.size > MAX_DISTINCT_BOOKS) {
    reasons.push(`the order has more than ${MAX_DISTINCT_BOOKS} different books`);
  }
  return verdict(reasons);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;
const PHONE = /^\+?[0-9 ()-]{7,20}$/;

/** Event b: name, contact, billing address, shipping method and the terms. */
export function checkUserData(order: Order): CheckResult {
  const reasons: string[] = [];
  const name = order.user.name.trim();
  if (name === "") reasons.push("the customer's name is missing");
  else if (name.length < 2) reasons.push("the customer's name is too short");
  const contact = order.user.contact.trim();
  if (contact === "") reasons.push("the customer's contact (e-mail or phone) is missing");
  else if (!EMAIL.test(contact) && !PHONE.test(contact)) {
    // Not echoed: reasons are stored with the order and shown with its events.
    reasons.push("the contact is neither an e-mail address nor a phone number");
  }
  reasons.push(...checkAddress(order.billingAddress));
  if (!(SHIPPING_METHODS as readonly string[]).includes(order.shippingMethod)) {
    reasons.push(`shipping method must be one of ${SHIPPING_METHODS.join(", ")}`);
  }
  if (!order.termsAccepted) reasons.push("the terms and conditions were not accepted");
  return verdict(reasons);
}

function checkAddress(address: Order["billingAddress"]): string[] {
  const reasons: string[] = [];
  for (const field of ["street", "city", "zip", "country"] as const) {
    if (address[field].trim() === "") reasons.push(`billing address: ${field} is missing`);
  }
  if (address.country.trim() === "") return reasons;
  const country = findCountry(address.country);
  if (!country) return [...reasons, `billing address: we do not ship to "${address.country}"`];
  if (country.needsState && address.state.trim() === "") {
    reasons.push(`billing address: state is required in ${country.name}`);
  }
  if (address.zip.trim() !== "" && !zipMatches(country, address.zip)) {
    reasons.push(`billing address: the postal code does not have the shape of one in ${country.name}`);
  }
  return reasons;
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
  const reasons: string[] = [];
  const digits = cardDigits(card.number);
  const brand = digits ? detectBrand(digits) : undefined;
  if (card.number.trim() === "") reasons.push("the card number is missing");
  else if (!digits) reasons.push("the card number may contain only digits, spaces and dashes");
  else if (digits.length < 12 || digits.length > 19) reasons.push("the card number has an implausible length");
  else if (!luhnValid(digits)) reasons.push("the card number is invalid (checksum failed)");
  else if (!brand) reasons.push("the card brand is not accepted");
  else if (!brand.lengths.includes(digits.length)) {
    reasons.push(`a ${brand.name} card number has ${brand.lengths.join(" or ")} digits`);
  }
  if (card.expirationDate.trim() === "") reasons.push("the card's expiration date is missing");
  else {
    const expiry = checkExpiry(card.expirationDate, now);
    if (!expiry.ok) reasons.push(expiry.reason);
  }
  const cvvLength = brand?.cvvLength;
  if (!/^\d{3,4}$/.test(card.cvv)) reasons.push("the CVV must be 3 or 4 digits");
  else if (cvvLength !== undefined && card.cvv.length !== cvvLength) {
    reasons.push(`a ${brand!.name} CVV has ${cvvLength} digits`);
  }
  return {
    ...verdict(reasons),
    brand: brand?.name,
    last4: digits && digits.length >= 12 ? digits.slice(-4) : undefined,
    digits,
  };
}
