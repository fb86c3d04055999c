/**
 * Suggestions: the check of event f and direct recommendations. f is the
 * event graph's last event (`VALIDATION_EVENTS`), so its approval, with the
 * books it suggests, is what the orchestrator hears.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { orderEventsService, type OrderItem, suggestionsService } from "@bookstore/lib/contracts";
import { EventProtocol } from "@bookstore/lib/event_protocol";
import { checkRoute, instanceCounts } from "@bookstore/lib/order_route";
import type { OrderSlot } from "@bookstore/lib/order_slots";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { CoPurchases } from "./copurchases.ts";
import { recommend } from "./recommend.ts";
import { SimilarityIndex } from "./similarity.ts";

/** How many books a checkout suggests. */
export const SUGGESTION_COUNT = 3;

/** Builds suggestions on `deps`; importing this module starts nothing. */
export function createApp(deps: KvServiceDeps): ServiceApp {
  const { config, kv } = deps;
  const kit = createServiceKit("suggestions", deps);
  const { log } = kit;
  const catalog = loadCatalog();
  const index = new SimilarityIndex(catalog.books);
  const coPurchases = new CoPurchases(kv, { retentionMs: config.orderRetentionMs });
  const counts = instanceCounts(config);

  async function suggest(bookIds: string[], limit: number) {
    const known = bookIds.filter((id) => catalog.get(id));
    return recommend(known, { catalog, index, coPurchases: await coPurchases.with(known), limit });
  }

  // Co-purchases are learned at ClearOrder, and only if the orchestrator approved the order.
  async function suggestionsEvent(slot: OrderSlot<OrderItem[]>) {
    const cart = slot.data.map((item) => catalog.resolve(item)?.bookId).filter((id): id is string => id !== undefined);
    const books = await suggest(cart, SUGGESTION_COUNT);
    return { ok: true, detail: books.map((b) => b.title).join("; "), suggestedBooks: books };
  }

  const protocol = new EventProtocol<OrderItem[]>("suggestions", {
    config,
    log,
    orchestrator: kit.instances(orderEventsService),
    events: { f: { check: suggestionsEvent } },
  });

  // The cart of an order still cached whose event f passed here; undefined otherwise.
  function approvedCart(orderId: string): string[] | undefined {
    let slot: OrderSlot<OrderItem[]>;
    try {
      slot = protocol.slot(orderId);
    } catch {
      return undefined; // already cleared (a repeated ClearOrder) or dropped
    }
    if (!slot.events.some((event) => event.name === "f" && event.ok)) return undefined;
    return slot.data.map((item) => catalog.resolve(item)?.bookId).filter((id): id is string => id !== undefined);
  }

  kit.rpc(suggestionsService, {
    InitOrder: ({ orderId, items, route }) => {
      checkRoute(route, counts);
      protocol.init(orderId, { data: items, route });
      return {};
    },
    Advance: (request) => {
      protocol.advance(request);
      return {};
    },
    ...protocol.endHandlers(),
    ClearOrder: async ({ orderId, finalClock, approved }) => {
      const cart = approved ? approvedCart(orderId) : undefined;
      const response = protocol.clear(orderId, finalClock);
      if (cart) await coPurchases.record({ orderId, bookIds: cart });
      return response;
    },
    Suggest: async ({ bookIds, limit }) => ({ books: await suggest(bookIds, limit || SUGGESTION_COUNT) }),
  });

  return kit.service(protocol);
}
