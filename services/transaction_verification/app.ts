/**
 * Transaction verification: the checks of events a (items), b (user data)
 * and c (card); when each runs and where its clock goes is the event graph's
 * (`VALIDATION_EVENTS`). Event c's Advance carries the card summary, which
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
import { EventProtocol } from "@bookstore/lib/event_protocol";
import { checkRoute, instanceCounts } from "@bookstore/lib/order_route";
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
  const fraud = kit.instances(fraudDetectionService);
  const counts = instanceCounts(config);
  const protocol = new EventProtocol<CachedOrder>("transaction_verification", {
    config,
    log,
    orchestrator: kit.instances(orderEventsService),
    events: {
      a: { check: (slot) => checkItems(slot.data.order, catalog) },
      b: { check: (slot) => checkUserData(slot.data.order) },
      c: { check: (slot) => slot.data.card, message: (slot) => ({ card: slot.data.summary }) },
    },
    peers: { fraud_detection: (request, instance) => fraud[instance - 1].Advance(request) },
  });

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
      card: { ok: card.ok, reasons: card.reasons, issues: card.issues, rejections: card.rejections },
      summary: { brand: card.brand ?? "", last4: card.last4 ?? "", fingerprint },
    };
  }

  kit.rpc(transactionVerificationService, {
    InitOrder: async ({ orderId, order, route }) => {
      checkRoute(route, counts);
      protocol.init(orderId, { data: await cache(order), route });
      return {};
    },
    Advance: (request) => {
      protocol.advance(request);
      return {};
    },
    ...protocol.endHandlers(),
  });

  return kit.service(protocol);
}
