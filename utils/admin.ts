/**
 * The guard of the web app's admin endpoints (the cluster page's fault
 * buttons): they exist only with fault injection enabled, and answer only
 * JSON requests from the web app's own origin, so no other site can press
 * the buttons for a visitor (a cross-site JSON post needs a CORS preflight,
 * which this app never grants).
 *
 * @module
 */
import type { State } from "./state.ts";
import { type FreshContext, HttpError } from "../web/fresh.ts";

/** Checks an admin request and answers its JSON body; throws `HttpError` otherwise. */
export async function adminGuard(ctx: FreshContext<State>): Promise<unknown> {
  if (!ctx.state.faults) throw new HttpError(404, `no page at ${ctx.url.pathname}`);
  const origin = ctx.req.headers.get("origin");
  if (origin !== null && origin !== ctx.url.origin && origin !== ctx.state.origin) {
    throw new HttpError(403, "admin requests are accepted only from the shop's own pages");
  }
  const type = (ctx.req.headers.get("content-type") ?? "").split(";")[0].trim();
  if (type !== "application/json") throw new HttpError(415, "admin requests must be JSON");
  try {
    return await ctx.req.json();
  } catch {
    throw new HttpError(400, "the request body is not valid JSON");
  }
}
