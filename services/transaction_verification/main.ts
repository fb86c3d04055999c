/**
 * Transaction verification: events a (items), b (user data) and c (card).
 * a and b run concurrently from the orchestrator's start; c follows a. b's
 * and c's clocks go on to fraud detection, c's with the card summary, which
 * is all of the card that ever leaves this process.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import { fraudDetectionService, type Order, transactionVerificationService } from "@bookstore/lib/contracts";
import { keyedHash } from "@bookstore/lib/fingerprint";
import { createClient, createRpcRoutes } from "@bookstore/lib/rpc";
import { createServiceKit, serve } from "@bookstore/lib/service";
import { type OrderSlot, Validator } from "@bookstore/lib/validation";
import { checkCard, checkItems, checkUserData } from "./checks.ts";

const config = loadConfig();
const token = requireServiceToken(config);
const { app, log, faults } = createServiceKit("transaction_verification", config);
const catalog = loadCatalog();
const validator = new Validator<Order>("transaction_verification", { config, log, token });
const fraud = createClient(fraudDetectionService, {
  baseUrl: config.urls.fraudDetection,
  peer: "fraud_detection",
  token,
  timeoutMs: config.rpcTimeoutMs,
});

async function itemsThenCard(slot: OrderSlot<Order>) {
  const a = await validator.run(slot, { name: "a", after: ["start"], check: () => checkItems(slot.data, catalog) });
  if (!a) return;
  if (!a.result.ok) return await validator.report(slot, { event: "a", outcome: "rejected", reasons: a.result.reasons });
  const card = checkCard(slot.data.creditCard, new Date());
  const c = await validator.run(slot, { name: "c", after: ["a"], check: () => card });
  // The number and CVV are not needed past this point: forget them.
  slot.data.creditCard.number = "";
  slot.data.creditCard.cvv = "";
  if (!c) return;
  if (!c.result.ok) return await validator.report(slot, { event: "c", outcome: "rejected", reasons: c.result.reasons });
  const summary = {
    brand: card.brand ?? "",
    last4: card.last4 ?? "",
    fingerprint: await keyedHash(card.digits ?? "", { key: token, purpose: "card" }),
  };
  await validator.forward(slot, {
    peer: "fraud_detection",
    event: "c",
    send: () => fraud.Advance({ orderId: slot.orderId, clock: c.clock, event: "c", card: summary }),
  });
}

async function userData(slot: OrderSlot<Order>) {
  const b = await validator.run(slot, { name: "b", after: ["start"], check: () => checkUserData(slot.data) });
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
      InitOrder: ({ orderId, order }) => {
        validator.init(orderId, order);
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
