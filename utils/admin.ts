/**
 * The guards of the web app's admin endpoints (the cluster page's fault
 * buttons) and its JSON API, run by `routes/admin/_middleware.ts` and
 * `routes/api/_middleware.ts` before every route below them.
 *
 * Both answer only requests addressed to the shop by its configured origin
 * (`WEB_ORIGIN`) or, when that is on loopback, by the same scheme and port
 * on another loopback name, and coming from one of those origins when the
 * browser says where it comes from. Comparing with the request's own URL is
 * not enough: that URL is built from the `Host` header, so a page on
 * `attacker.example:8000` whose name the attacker re-points at 127.0.0.1
 * (DNS rebinding) is same-origin with itself and could press the buttons.
 *
 * The admin endpoints exist only with fault injection enabled and take
 * only JSON, so no other site can post to them from a visitor's browser
 * either (a cross-site JSON post needs a CORS preflight, which this app
 * never grants).
 *
 * @module
 */
import { mediaType } from "@bookstore/lib/http";
import { originAliases } from "@bookstore/lib/origins";
import type { State } from "./state.ts";
import { type FreshContext, HttpError } from "../web/fresh.ts";

/**
 * Refuses with 403 a request whose `Host` is not one of the shop's origins'
 * hosts, or whose `Origin` (when sent) is not one of the shop's origins.
 */
export function requireShopOrigin(ctx: FreshContext<State>): void {
  const allowed = originAliases(ctx.state.origin);
  const host = ctx.url.host;
  if (!allowed.some((origin) => new URL(origin).host === host)) {
    throw new HttpError(403, `Host "${host}" is not the shop's address (${ctx.state.origin})`);
  }
  const origin = ctx.req.headers.get("origin");
  if (origin !== null && !allowed.includes(origin)) {
    throw new HttpError(403, `Origin "${origin}" is not the shop's own (${ctx.state.origin})`);
  }
}

/**
 * Refuses an admin request: 404 when fault injection is off (the endpoints do
 * not exist then), 403 from elsewhere than the shop, 415 when it is not JSON.
 */
export function requireAdmin(ctx: FreshContext<State>): void {
  if (!ctx.state.faults) throw new HttpError(404, `no page at ${ctx.url.pathname}`);
  requireShopOrigin(ctx);
  if (mediaType(ctx.req.headers) !== "application/json") throw new HttpError(415, "admin requests must be JSON");
}

/** The request's JSON body; 400 when it is not valid JSON. */
export async function readJson(ctx: FreshContext<State>): Promise<unknown> {
  try {
    return await ctx.req.json();
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
}
