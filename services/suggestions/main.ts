/**
 * Suggestions: event f (after e) and direct recommendations. The last event
 * of a checkout, so it is the one that reports approval to the orchestrator.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import { type OrderItem, suggestionsService } from "@bookstore/lib/contracts";
import { createRpcRoutes } from "@bookstore/lib/rpc";
import { createServiceKit, openServiceKv, serve } from "@bookstore/lib/service";
import { type OrderSlot, Validator } from "@bookstore/lib/validation";
import { CoPurchases, recommend } from "./recommend.ts";
import { SimilarityIndex } from "./similarity.ts";

/** How many books a checkout suggests. */
export const SUGGESTION_COUNT = 3;

const config = loadConfig();
const token = requireServiceToken(config);
const { app, log, faults } = createServiceKit("suggestions", config);
const catalog = loadCatalog();
const index = new SimilarityIndex(catalog.books);
const kv = await openServiceKv(config, "suggestions");
const coPurchases = new CoPurchases(kv);
const validator = new Validator<OrderItem[]>("suggestions", { config, log, token });

async function suggest(bookIds: string[], limit: number) {
  const known = bookIds.filter((id) => catalog.get(id));
  return recommend(known, { catalog, index, coPurchases: await coPurchases.with(known), limit });
}

async function suggestionsEvent(slot: OrderSlot<OrderItem[]>) {
  const cart = slot.data.map((item) => catalog.resolve(item)?.bookId).filter((id): id is string => id !== undefined);
  const books = await suggest(cart, SUGGESTION_COUNT);
  const f = await validator.run(slot, {
    name: "f",
    after: ["e"],
    check: () => ({ ok: true, detail: books.map((b) => b.title).join("; ") }),
  });
  if (!f) return;
  await coPurchases.record(cart);
  await validator.report(slot, { event: "f", outcome: "approved", suggestedBooks: books });
}

app.route(
  "/",
  createRpcRoutes(suggestionsService, {
    log,
    token,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      InitOrder: ({ orderId, items }) => {
        validator.init(orderId, items);
        return {};
      },
      Advance: (request) => {
        const slot = validator.receive(request, { from: ["e"] });
        if (slot) validator.background(slot, suggestionsEvent);
        return {};
      },
      ...validator.endHandlers(),
      Suggest: async ({ bookIds, limit }) => ({ books: await suggest(bookIds, limit || SUGGESTION_COUNT) }),
    },
  }),
);

serve(app, {
  port: config.ports.suggestions,
  hostname: config.host,
  log,
  onShutdown: () => {
    validator.close();
    kv.close();
  },
});
