/**
 * `POST /admin/replicas/{id}/crash` and `POST /admin/replicas/{id}/pause`
 * (`{"seconds": n}`): the cluster page's fault buttons for executor replicas.
 * They exist only with fault injection enabled, accept requests only from
 * the web app's own pages (`routes/admin/_middleware.ts`), and reach the replica's admin endpoint with the
 * service credential, which never leaves the server.
 *
 * @module
 */
import { z } from "zod";
import { readJson } from "../../../../utils/admin.ts";
import type { State } from "../../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../../web/fresh.ts";

const pauseSchema = z.object({ seconds: z.number().min(0.1).max(30) });

/** Crashes or pauses a replica. */
export const handler: Handlers<never, State> = {
  async POST(ctx) {
    const body = await readJson(ctx);
    const id = Number(ctx.params.replicaId);
    if (!Number.isInteger(id) || id < 1) throw new HttpError(404, `no replica "${ctx.params.replicaId}"`);
    if (ctx.params.action === "crash") {
      await ctx.state.shop.crashReplica(id);
      return Response.json({ replica: id, action: "crash" }, { status: 202 });
    }
    if (ctx.params.action === "pause") {
      const parsed = pauseSchema.safeParse(body);
      if (!parsed.success) throw new HttpError(400, "seconds: a number from 0.1 to 30 is required");
      await ctx.state.shop.pauseReplica(id, Math.round(parsed.data.seconds * 1000));
      return Response.json({ replica: id, action: "pause", seconds: parsed.data.seconds }, { status: 202 });
    }
    throw new HttpError(404, `no action "${ctx.params.action}"`);
  },
};
