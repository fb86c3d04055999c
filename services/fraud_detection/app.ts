/**
 * Fraud detection: the checks of events d (user data fraud) and e (card
 * fraud), in `events.ts`; this module wires them to the RPCs.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { requireFingerprintKey } from "@bookstore/lib/config";
import { fraudDetectionService, orderEventsService, suggestionsService } from "@bookstore/lib/contracts";
import { EventProtocol } from "@bookstore/lib/event_protocol";
import { checkRoute, instanceCounts } from "@bookstore/lib/order_route";
import { RpcError } from "@bookstore/lib/rpc";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { createFraudEvents, type FraudState } from "./events.ts";
import { loadFraudModel } from "./model/model.ts";

export { REJECT_SCORE } from "./events.ts";

/** Builds fraud detection on `deps`; importing this module starts nothing. */
export function createApp(deps: KvServiceDeps): ServiceApp {
  const { config, kv } = deps;
  const fingerprintKey = requireFingerprintKey(config);
  const kit = createServiceKit("fraud_detection", deps);
  const { log } = kit;
  const suggestions = kit.instances(suggestionsService);
  const counts = instanceCounts(config);
  const protocol = new EventProtocol<FraudState>("fraud_detection", {
    config,
    log,
    orchestrator: kit.instances(orderEventsService),
    events: createFraudEvents({ kv, catalog: loadCatalog(), model: loadFraudModel(), fingerprintKey, log }),
    peers: { suggestions: (request, instance) => suggestions[instance - 1].Advance(request) },
  });

  kit.rpc(fraudDetectionService, {
    InitOrder: ({ orderId, order, route }) => {
      checkRoute(route, counts);
      protocol.init(orderId, { data: { order }, route });
      return {};
    },
    Advance: (request) => {
      if (request.event === "c" && !request.card) {
        throw new RpcError("invalid_argument", "card: event c must carry the card summary");
      }
      protocol.advance(request, {
        received: (slot) => {
          if (request.card) slot.data.card = request.card;
        },
      });
      return {};
    },
    ...protocol.endHandlers(),
  });

  return kit.service(protocol);
}
