/**
 * Fraud rules: the explainable half of the risk score. Each rule that fires
 * adds points and a reason a person can read; the trained model
 * (`model/`) adds its own probability on top.
 *
 * @module
 */
import type { ReasonCode } from "@bookstore/lib/contracts";
import { findCountry } from "@bookstore/lib/countries";

/** A rule that fired: its points and why. */
export interface RuleHit {
  /** Points added to the risk score (0-100 scale). */
  points: number;
  /** Why. */
  reason: string;
  /** The stable code of why. */
  code: ReasonCode;
}

/** Domains of well-known throwaway mailbox services. */
export const DISPOSABLE_DOMAINS: ReadonlySet<string> = new Set([
  "10minutemail.com",
  "20minutemail.com",
  "discard.email",
  "dispostable.com",
  "emailondeck.com",
  "fakeinbox.com",
  "getairmail.com",
  "getnada.com",
  "guerrillamail.com",
  "guerrillamail.net",
  "maildrop.cc",
  "mailinator.com",
  "mailnesia.com",
  "mintemail.com",
  "mohmal.com",
  "mytemp.email",
  "sharklasers.com",
  "spamgourmet.com",
  "temp-mail.org",
  "tempail.com",
  "tempmail.com",
  "tempmailo.com",
  "throwawaymail.com",
  "trashmail.com",
  "yopmail.com",
]);

/** Whether a contact is an e-mail address at a disposable domain. */
export function isDisposableContact(contact: string): boolean {
  const at = contact.lastIndexOf("@");
  if (at < 0) return false;
  return DISPOSABLE_DOMAINS.has(contact.slice(at + 1).trim().toLowerCase());
}

/** Whether a name looks made up: one word, digits, or a character repeated. */
export function isSuspiciousName(name: string): boolean {
  const trimmed = name.trim();
  return trimmed.split(/\s+/).length < 2 || /\d/.test(trimmed) || /(.)\1\1/i.test(trimmed);
}

// Regional brands are rarely issued outside their home markets.
const BRAND_HOME: Readonly<Record<string, readonly string[]>> = {
  jcb: ["JP", "KR", "TW", "SG", "HK"],
  unionpay: ["CN", "HK", "MO", "SG"],
};

/** Whether a card brand is unusual for the billing country. */
export function brandCountryMismatch(brand: string, country: string): boolean {
  const home = BRAND_HOME[brand];
  const code = findCountry(country)?.code;
  return home !== undefined && code !== undefined && !home.includes(code);
}

/** Orders from one contact or card within the window before it counts as velocity abuse. */
export const VELOCITY_LIMIT = 5;

/** Rules over the customer's data (event d). */
export function userDataRules(input: {
  name: string;
  contact: string;
  contactVelocity: number;
  totalQuantity: number;
  orderAmount: number;
}): RuleHit[] {
  const hits: RuleHit[] = [];
  if (isDisposableContact(input.contact)) {
    hits.push({ points: 40, reason: "the contact uses a disposable e-mail domain", code: "fraud.disposable_contact" });
  }
  if (isSuspiciousName(input.name)) {
    hits.push({ points: 20, reason: "the customer's name looks made up", code: "fraud.suspicious_name" });
  }
  if (input.contactVelocity > VELOCITY_LIMIT) {
    hits.push({
      points: 50,
      reason: `${input.contactVelocity} orders from this contact in the last 10 minutes`,
      code: "fraud.velocity",
    });
  }
  if (input.totalQuantity > 30) {
    hits.push({
      points: 25,
      reason: `an unusually large quantity (${input.totalQuantity} books)`,
      code: "fraud.large_order",
    });
  }
  if (input.orderAmount > 1500) {
    hits.push({
      points: 20,
      reason: `an unusually large amount ($${input.orderAmount.toFixed(2)})`,
      code: "fraud.large_order",
    });
  }
  return hits;
}

/** Rules over the card (event e). */
export function cardRules(input: { brand: string; country: string; cardVelocity: number }): RuleHit[] {
  const hits: RuleHit[] = [];
  if (input.cardVelocity > VELOCITY_LIMIT) {
    hits.push({
      points: 50,
      reason: `this card was used for ${input.cardVelocity} orders in the last 10 minutes`,
      code: "fraud.velocity",
    });
  }
  if (brandCountryMismatch(input.brand, input.country)) {
    hits.push({
      points: 25,
      reason: `a ${input.brand} card is unusual for the billing country`,
      code: "fraud.brand_country",
    });
  }
  return hits;
}

/** The sum of rule points, capped at 100. */
export function ruleScore(hits: readonly RuleHit[]): number {
  return Math.min(100, hits.reduce((sum, hit) => sum + hit.points, 0));
}
