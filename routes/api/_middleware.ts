/**
 * The guard of every `/api` route: only for the shop's own pages
 * (`requireShopOrigin`: 403 for another `Host` or `Origin`).
 *
 * @module
 */
import { requireShopOrigin } from "../../utils/admin.ts";
import type { State } from "../../utils/state.ts";
import type { MiddlewareHandler } from "../../web/fresh.ts";

/** Refuses a request addressed to, or sent from, anywhere but the shop. */
export const handler: MiddlewareHandler<State> = (ctx) => {
  requireShopOrigin(ctx);
  return ctx.next();
};
