/**
 * Transaction verification: events a (items), b (user data) and c (card).
 * a and b run concurrently from the orchestrator's start; c follows a. b's
 * and c's clocks go on to fraud detection, c's with the card summary, which
 * is all of the card that ever leaves this process.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireFingerprintKey, requireServiceToken } from "@bookstore/lib/config";
import {
  type CardSummary,
  fraudDetectionService,
  type Order,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import { keyedHash } from "@bookstore/lib/fingerprint";
import { createClient, createRpcRoutes } from "@bookstore/lib/rpc";
import { createServiceKit, serve } from "@bookstore/lib/service";
import { type OrderSlot, Validator } from "@bookstore/lib/validation";
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

const config = loadConfig();
const token = requireServiceToken(config);
const fingerprintKey = requireFingerprintKey(config);
const { app, log, faults } = createServiceKit("transaction_verification", config);
const catalog = loadCatalog();
const validator = new Validator<CachedOrder>("transaction_verification", { config, log, token });
const fraud = createClient(fraudDetectionService, {
  baseUrl: config.urls.fraudDetection,
  peer: "fraud_detection",
  token,
  timeoutMs: config.rpcTimeoutMs,
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
    card: { ok: card.ok, reasons: card.reasons, issues: card.issues },
    summary: { brand: card.brand ?? "", last4: card.last4 ?? "", fingerprint },
  };
}

async function itemsThenCard(slot: OrderSlot<CachedOrder>) {
  const { order, card, summary } = slot.data;
  const a = await validator.run(slot, { name: "a", after: ["start"], check: () => checkItems(order, catalog) });
  if (!a) return;
  if (!a.result.ok) return await validator.report(slot, { event: "a", outcome: "rejected", reasons: a.result.reasons });
  const c = await validator.run(slot, { name: "c", after: ["a"], check: () => card });
  if (!c) return;
  if (!c.result.ok) return await validator.report(slot, { event: "c", outcome: "rejected", reasons: c.result.reasons });
  await validator.forward(slot, {
    peer: "fraud_detection",
    event: "c",
    send: () => fraud.Advance({ orderId: slot.orderId, clock: c.clock, event: "c", card: summary }),
  });
}

async function userData(slot: OrderSlot<CachedOrder>) {
  const b = await validator.run(slot, { name: "b", after: ["start"], check: () => checkUserData(slot.data.order) });
  if (!b) return;
  if (!b.result.ok) return await validator.report(slot, { event: "b", outcome: "rejected", reasons: b.result.reasons });
  await validator.forward(slot, {
    peer: "fraud_detection",
    event: "b",
    send: () => fraud.Advance({ orderId: slot.orderId, clock: b.clock, event: "b" }),
  });
}

app.route(
  "/",
  createRpcRoutes(transactionVerificationService, {
    log,
    token,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      InitOrder: async ({ orderId, order }) => {
        validator.init(orderId, await cache(order));
        return {};
      },
      Advance: (request) => {
        const slot = validator.receive(request, { from: ["start"] });
        if (slot) {
          // a ‖ b: both roots start at once; neither waits for the other.
          validator.background(slot, itemsThenCard);
          validator.background(slot, userData);
        }
        return {};
      },
      ...validator.endHandlers(),
    },
  }),
);

serve(app, {
  port: config.ports.transactionVerification,
  hostname: config.host,
  log,
  onShutdown: () => validator.close(),
});
