/**
 * `POST /admin/queue_replicas/{n}/crash`: the cluster page's Crash button of
 * order queue replica n. It exists only with fault injection enabled, accepts
 * requests only from the web app's own pages (`routes/admin/_middleware.ts`),
 * and reaches the replica's `/admin/crash` with the service credential, which
 * never leaves the server.
 *
 * @module
 */
import type { State } from "../../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../../web/fresh.ts";

/** Crashes a queue replica. */
export const handler: Handlers<never, State> = {
  async POST(ctx) {
    await ctx.req.body?.cancel();
    const replica = Number(ctx.params.replica);
    if (!Number.isInteger(replica) || replica < 1) throw new HttpError(404, `no queue replica "${ctx.params.replica}"`);
    await ctx.state.shop.crashQueueReplica(replica);
    return Response.json({ queueReplica: replica, action: "crash" }, { status: 202 });
  },
};
