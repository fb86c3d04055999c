/**
 * `POST /admin/validators/{name}` (`{"mode": "slow" | "fail" | "clear"}`):
 * the cluster page's buttons that make a validation service slower than the
 * deadline, fail every call, or well again. Only with fault injection
 * enabled, only from the web app's own pages (`routes/admin/_middleware.ts`).
 *
 * @module
 */
import { z } from "zod";
import { VALIDATORS } from "@bookstore/lib/contracts";
import { readJson } from "../../../utils/admin.ts";
import { VALIDATOR_FAULT_MODES } from "../../../utils/shop_api.ts";
import type { State } from "../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../web/fresh.ts";

const bodySchema = z.object({ mode: z.enum(VALIDATOR_FAULT_MODES) });

/** Sets a validator's fault. */
export const handler: Handlers<never, State> = {
  async POST(ctx) {
    const body = await readJson(ctx);
    const name = VALIDATORS.find((v) => v === ctx.params.name);
    if (!name) throw new HttpError(404, `no validator "${ctx.params.name}"`);
    const parsed = bodySchema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, `mode: one of ${VALIDATOR_FAULT_MODES.join(", ")} is required`);
    await ctx.state.shop.setValidatorFault(name, parsed.data.mode);
    return Response.json({ validator: name, mode: parsed.data.mode });
  },
};
