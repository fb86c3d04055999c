/**
 * The checks of fraud detection's events: d (user data fraud) and e (card
 * fraud, which builds on d's assessment and c's card summary); when each
 * runs and where e's clock goes is the event graph's. The risk score (0-100) is the larger of the rule points and
 * the trained model's probability; an order at or above
 * {@linkcode REJECT_SCORE} is rejected with the reasons that made its score.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import { type CardSummary, type FraudOrder, modelReason, type Rejection, rejection } from "@bookstore/lib/contracts";
import type { EventHandler, EventResult } from "@bookstore/lib/event_protocol";
import type { OrderSlot } from "@bookstore/lib/order_slots";
import { keyedHash } from "@bookstore/lib/fingerprint";
import type { Logger } from "@bookstore/lib/log";
import type { Kv } from "@bookstore/lib/store";
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
  /** Velocity counters. */
  kv: Kv;
  /** The catalog, for amounts. */
  catalog: Catalog;
  /** The trained model. */
  model: FraudModel;
  /** The key of contact fingerprints. */
  fingerprintKey: string;
  /** Logger. */
  log: Logger;
}

/** The checks of the two events, bound to their dependencies. */
export type FraudEvents = Record<"d" | "e", EventHandler<FraudState>>;

/** Binds the checks of events d and e to `deps`. */
export function createFraudEvents(deps: FraudEventsDeps): FraudEvents {
  const { kv, catalog, model, fingerprintKey, log } = deps;
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

  async function userDataFraud(slot: OrderSlot<FraudState>): Promise<EventResult> {
    const assessment = await assessUser(slot.data.order, slot.orderId);
    slot.data.user = assessment;
    const score = ruleScore(assessment.hits);
    return {
      ok: score < REJECT_SCORE,
      rejections: fraudRejections(score, assessment.hits.map(hitRejection)),
      detail: `user risk ${score}/100`,
    };
  }

  // Runs once c (from transaction verification, with the card summary) and d (here) have completed.
  async function cardFraud(slot: OrderSlot<FraudState>): Promise<EventResult> {
    const { user, card } = slot.data;
    if (!user || !card) throw new Error(`event e of order ${slot.orderId} ran without d's assessment or c's card`);
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
    const rejections = hits.map(hitRejection);
    if (modelScore >= REJECT_SCORE) {
      const top = prediction.contributions.filter((c) => c.contribution > 0.5).slice(0, 2);
      rejections.push(...top.map((c) => rejection("fraud.model", modelReason(c.label))));
      if (top.length === 0) rejections.push(rejection("fraud.model", modelReason(`fraud probability ${modelScore}%`)));
    }
    log.info("risk assessed", { orderId: slot.orderId, score, modelScore, rules: hits.length });
    return {
      ok: score < REJECT_SCORE,
      rejections: fraudRejections(score, rejections),
      detail: `risk ${score}/100 (model ${modelScore})`,
    };
  }

  return { d: { check: userDataFraud }, e: { check: cardFraud } };
}

function fraudRejections(score: number, rejections: Rejection[]): Rejection[] {
  return [rejection("fraud.risk", `fraud risk ${score}/100 is too high`), ...rejections];
}

function hitRejection(hit: RuleHit): Rejection {
  return rejection(hit.code, hit.reason);
}
