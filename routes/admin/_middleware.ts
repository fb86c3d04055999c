/**
 * The guard of every `/admin` route: they exist only with fault injection
 * enabled (404 otherwise), answer only the shop's own pages (403) and take
 * only JSON (415), so no other site can press the cluster page's buttons.
 *
 * @module
 */
import { requireAdmin } from "../../utils/admin.ts";
import type { State } from "../../utils/state.ts";
import type { MiddlewareHandler } from "../../web/fresh.ts";

/** Refuses what is not the shop's own JSON admin request. */
export const handler: MiddlewareHandler<State> = (ctx) => {
  requireAdmin(ctx);
  return ctx.next();
};
