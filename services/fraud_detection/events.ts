/**
 * Fraud detection's events: d (user data fraud, after b) and e (card fraud,
 * after c and d). The risk score (0-100) is the larger of the rule points and
 * the trained model's probability; an order at or above
 * {@linkcode REJECT_SCORE} is rejected with the reasons that made its score.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type { CardSummary, FraudOrder, suggestionsService } from "@bookstore/lib/contracts";
import type { EventProtocol, OrderSlot } from "@bookstore/lib/event_protocol";
import { keyedHash } from "@bookstore/lib/fingerprint";
import type { Logger } from "@bookstore/lib/log";
import type { Client } from "@bookstore/lib/rpc";
import type { FraudFeatures } from "./model/features.ts";
import { type FraudModel, predictFraud } from "./model/model.ts";
import {
  brandCountryMismatch,
  cardRules,
  isDisposableContact,
  isSuspiciousName,
  type RuleHit,
  ruleScore,
  userDataRules,
} from "./rules.ts";
import { recordAndCount } from "./velocity.ts";

/** Risk score at or above which an order is rejected. */
export const REJECT_SCORE = 70;

/** What fraud detection keeps of an order while its events run. */
export interface FraudState {
  /** The order, without card data. */
  order: FraudOrder;
  /** Event d's assessment, which e builds on. */
  user?: UserAssessment;
  /** The card summary that came with event c. */
  card?: CardSummary;
  /** Set when e starts, so that it runs once whichever of c and d completes last. */
  cardStarted?: boolean;
}

/** Event d's findings: the rules that hit and the user half of the model's features. */
export interface UserAssessment {
  /** Rules that hit. */
  hits: RuleHit[];
  /** The model's features that do not need the card. */
  features: Omit<FraudFeatures, "cardVelocity" | "brandCountryMismatch">;
}

/** What the events need. */
export interface FraudEventsDeps {
  /** The service's side of the event protocol. */
  protocol: EventProtocol<FraudState>;
  /** Velocity counters. */
  kv: Deno.Kv;
  /** The catalog, for amounts. */
  catalog: Catalog;
  /** The trained model. */
  model: FraudModel;
  /** The key of contact fingerprints. */
  fingerprintKey: string;
  /** Where an order that passes e goes next. */
  suggestions: Client<typeof suggestionsService>;
  /** Logger. */
  log: Logger;
}

/** The two events, bound to their dependencies. */
export interface FraudEvents {
  /** Event d; runs e too when c has already arrived. */
  userDataFraud(slot: OrderSlot<FraudState>): Promise<void>;
  /** Event e, once both c and d have completed (a no-op before). */
  maybeCardFraud(slot: OrderSlot<FraudState>): Promise<void>;
}

/** Binds events d and e to `deps`. */
export function createFraudEvents(deps: FraudEventsDeps): FraudEvents {
  const { protocol, kv, catalog, model, fingerprintKey, suggestions, log } = deps;
  async function assessUser(order: FraudOrder, orderId: string): Promise<UserAssessment> {
    const books = order.items.map((item) => ({ item, book: catalog.resolve(item) }));
    const totalQuantity = order.items.reduce((sum, item) => sum + Math.max(0, item.quantity), 0);
    const orderAmount = books.reduce((sum, { item, book }) => sum + (book?.price ?? 0) * Math.max(0, item.quantity), 0);
    const contact = order.user.contact.trim().toLowerCase();
    const contactVelocity = await recordAndCount(kv, {
      kind: "contact",
      orderId,
      fingerprint: await keyedHash(contact, { key: fingerprintKey, purpose: "contact" }),
    });
    const features = {
      totalQuantity,
      maxLineQuantity: Math.max(0, ...order.items.map((item) => item.quantity)),
      distinctBooks: new Set(books.map(({ item, book }) => book?.bookId ?? item.name)).size,
      orderAmount: Math.round(orderAmount * 100) / 100,
      disposableContact: isDisposableContact(contact) ? 1 : 0,
      contactVelocity,
      expeditedShipping: order.shippingMethod === "Standard" ? 0 : 1,
      giftWrapping: order.giftWrapping ? 1 : 0,
      nameSuspicious: isSuspiciousName(order.user.name) ? 1 : 0,
    };
    const hits = userDataRules({ name: order.user.name, contact, contactVelocity, totalQuantity, orderAmount });
    return { hits, features };
  }

  async function userDataFraud(slot: OrderSlot<FraudState>): Promise<void> {
    const assessment = await assessUser(slot.data.order, slot.orderId);
    slot.data.user = assessment;
    const score = ruleScore(assessment.hits);
    const d = await protocol.run(slot, {
      name: "d",
      after: ["b"],
      check: () => ({
        ok: score < REJECT_SCORE,
        reasons: assessment.hits.map((hit) => hit.reason),
        detail: `user risk ${score}/100`,
      }),
    });
    if (!d) return;
    if (!d.result.ok) {
      await protocol.report(slot, {
        event: "d",
        outcome: "rejected",
        reasons: fraudReasons(score, d.result.reasons ?? []),
      });
      return;
    }
    await maybeCardFraud(slot);
  }

  async function maybeCardFraud(slot: OrderSlot<FraudState>): Promise<void> {
    // e needs both c (from transaction verification) and d (here).
    const { user, card } = slot.data;
    if (!protocol.hasCompleted(slot, ["c", "d"]) || slot.data.cardStarted || !user || !card) return;
    slot.data.cardStarted = true;
    const cardVelocity = await recordAndCount(kv, {
      kind: "card",
      fingerprint: card.fingerprint,
      orderId: slot.orderId,
    });
    const hits = [
      ...user.hits,
      ...cardRules({ brand: card.brand, country: slot.data.order.billingAddress.country, cardVelocity }),
    ];
    const features: FraudFeatures = {
      ...user.features,
      cardVelocity,
      brandCountryMismatch: brandCountryMismatch(card.brand, slot.data.order.billingAddress.country) ? 1 : 0,
    };
    const prediction = predictFraud(model, features);
    const modelScore = Math.round(prediction.probability * 100);
    const score = Math.max(ruleScore(hits), modelScore);
    const reasons = hits.map((hit) => hit.reason);
    if (modelScore >= REJECT_SCORE) {
      const top = prediction.contributions.filter((c) => c.contribution > 0.5).slice(0, 2);
      reasons.push(...top.map((c) => `risk model: ${c.label}`));
      if (top.length === 0) reasons.push(`risk model: fraud probability ${modelScore}%`);
    }
    const e = await protocol.run(slot, {
      name: "e",
      after: ["c", "d"],
      check: () => ({ ok: score < REJECT_SCORE, reasons, detail: `risk ${score}/100 (model ${modelScore})` }),
    });
    if (!e) return;
    log.info("risk assessed", { orderId: slot.orderId, score, modelScore, rules: hits.length });
    if (!e.result.ok) {
      await protocol.report(slot, { event: "e", outcome: "rejected", reasons: fraudReasons(score, reasons) });
      return;
    }
    await protocol.forward(slot, {
      peer: "suggestions",
      event: "e",
      send: () => suggestions.Advance({ orderId: slot.orderId, clock: e.clock, event: "e" }),
    });
  }

  return { userDataFraud, maybeCardFraud };
}

function fraudReasons(score: number, reasons: string[]): string[] {
  return [`fraud risk ${score}/100 is too high`, ...reasons];
}
