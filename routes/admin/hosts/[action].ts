/**
 * `POST /admin/hosts/cut_leader`, `POST /admin/hosts/isolate_leader` and
 * `POST /admin/hosts/heal`: the cluster page's buttons under `deno task dev
 * --hosts`. The first cuts the executor leader's host off from the other
 * executors' (it still reaches the queue and the store: the seeds'
 * partition), the second from every host of the system, the third heals
 * every cut link; the supervisor that runs
 * the hosts does both (`BOOKSTORE_SUPERVISOR_URL`). Which replica leads is
 * read here, when the button is pressed, not taken from the page. Only with
 * fault injection enabled, only from the web app's own pages
 * (`routes/admin/_middleware.ts`).
 *
 * @module
 */
import type { PartitionScope } from "@bookstore/lib/contracts";
import { leaderHost } from "../../../utils/hosts.ts";
import type { State } from "../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../web/fresh.ts";

// Each cutting action, and how far it cuts the leader off.
const CUTS: Record<string, PartitionScope> = { cut_leader: "group", isolate_leader: "all" };

/** Cuts the executor leader off, or heals every cut. */
export const handler: Handlers<never, State> = {
  async POST(ctx) {
    await ctx.req.body?.cancel();
    const { action } = ctx.params;
    if (action === "heal") {
      await ctx.state.shop.healLinks();
      return Response.json({ action }, { status: 202 });
    }
    const from = Object.hasOwn(CUTS, action) ? CUTS[action] : undefined;
    if (!from) throw new HttpError(404, `no host action "${action}" (cut_leader, isolate_leader or heal)`);
    const { cluster } = await ctx.state.cluster.snapshot();
    if ("error" in cluster) throw new HttpError(503, `the cluster cannot be read (${cluster.error})`);
    if (!cluster.hosts) throw new HttpError(404, "the processes do not run on hosts (deno task dev --hosts)");
    const leader = leaderHost(cluster);
    if (!leader) throw new HttpError(409, "no executor leads right now: nothing to cut off");
    await ctx.state.shop.partitionHost(leader.host.name, { from });
    return Response.json({ action, replica: leader.replica, host: leader.host.name }, { status: 202 });
  },
};
