/**
 * Transaction verification: events a (items), b (user data) and c (card).
 * a and b run concurrently from the orchestrator's start; c follows a. b's
 * and c's clocks go on to fraud detection, c's with the card summary, which
 * is all of the card that ever leaves this process.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { requireFingerprintKey } from "@bookstore/lib/config";
import {
  type CardSummary,
  fraudDetectionService,
  type Order,
  orderEventsService,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import { EventProtocol, type OrderSlot } from "@bookstore/lib/event_protocol";
import { keyedHash } from "@bookstore/lib/fingerprint";
import { createServiceKit, type ServiceApp, type ServiceDeps } from "@bookstore/lib/service";
import { checkCard, type CheckResult, checkUserData } from "@bookstore/lib/checks";
import { checkItems } from "./checks.ts";

/** What this service keeps of an order: never the card number or CVV. */
interface CachedOrder {
  /** The order with the card's number and CVV blanked. */
  order: Order;
  /** The card check's verdict, taken when the order arrived. */
  card: CheckResult;
  /** Brand, last four and fingerprint: what event c sends on. */
  summary: CardSummary;
}

/** Builds transaction verification on `deps`; importing this module starts nothing. */
export function createApp(deps: ServiceDeps): ServiceApp {
  const { config } = deps;
  const fingerprintKey = requireFingerprintKey(config);
  const kit = createServiceKit("transaction_verification", deps);
  const { log } = kit;
  const catalog = loadCatalog();
  const protocol = new EventProtocol<CachedOrder>("transaction_verification", {
    config,
    log,
    orchestrator: kit.peer(orderEventsService),
  });
  const fraud = kit.peer(fraudDetectionService);

  /**
   * Checks the card the moment the order arrives and keeps only the verdict and
   * the summary, so the number and CVV are not held while a and b run. Event c
   * reports the verdict in its place in the causal order.
   */
  async function cache(order: Order): Promise<CachedOrder> {
    const card = checkCard(order.creditCard, new Date());
    const fingerprint = card.ok && card.digits
      ? await keyedHash(card.digits, { key: fingerprintKey, purpose: "card" })
      : "";
    return {
      order: { ...order, creditCard: { number: "", cvv: "", expirationDate: order.creditCard.expirationDate } },
      card: { ok: card.ok, reasons: card.reasons, issues: card.issues },
      summary: { brand: card.brand ?? "", last4: card.last4 ?? "", fingerprint },
    };
  }

  async function itemsThenCard(slot: OrderSlot<CachedOrder>) {
    const { order, card, summary } = slot.data;
    const a = await protocol.pass(slot, { name: "a", after: ["start"], check: () => checkItems(order, catalog) });
    if (!a) return;
    const c = await protocol.pass(slot, { name: "c", after: ["a"], check: () => card });
    if (!c) return;
    await protocol.forward(slot, {
      peer: "fraud_detection",
      event: "c",
      send: () => fraud.Advance({ orderId: slot.orderId, clock: c, event: "c", card: summary }),
    });
  }

  async function userData(slot: OrderSlot<CachedOrder>) {
    const b = await protocol.pass(slot, { name: "b", after: ["start"], check: () => checkUserData(slot.data.order) });
    if (!b) return;
    await protocol.forward(slot, {
      peer: "fraud_detection",
      event: "b",
      send: () => fraud.Advance({ orderId: slot.orderId, clock: b, event: "b" }),
    });
  }

  kit.rpc(transactionVerificationService, {
    InitOrder: async ({ orderId, order }) => {
      protocol.init(orderId, await cache(order));
      return {};
    },
    Advance: (request) => {
      const slot = protocol.receive(request, { from: ["start"] });
      if (slot) {
        // a ‖ b: both roots start at once; neither waits for the other.
        protocol.background(slot, itemsThenCard);
        protocol.background(slot, userData);
      }
      return {};
    },
    ...protocol.endHandlers(),
  });

  return kit.service(protocol);
}
