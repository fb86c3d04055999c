/**
 * `POST /admin/etcd_members/{name}/crash`: the cluster page's Crash button
 * of an etcd member. etcd has no crash endpoint of its own, so the web app
 * asks the supervisor that runs the member (`deno task dev`) to SIGKILL it;
 * with an existing cluster (`BOOKSTORE_ETCD_ENDPOINTS`) no supervisor runs
 * it and the route does not exist. Only with fault injection enabled, only
 * from the web app's own pages (`routes/admin/_middleware.ts`).
 *
 * @module
 */
import type { State } from "../../../../utils/state.ts";
import { type Handlers, HttpError } from "../../../../web/fresh.ts";

/** Crashes an etcd member. */
export const handler: Handlers<never, State> = {
  async POST(ctx) {
    await ctx.req.body?.cancel();
    const name = ctx.params.member;
    if (!ctx.state.crashesEtcd) throw new HttpError(404, "no etcd member runs under this web app's supervisor");
    if (!/^[\w-]{1,64}$/.test(name)) throw new HttpError(404, `no etcd member "${name}"`);
    await ctx.state.shop.crashEtcdMember(name);
    return Response.json({ etcdMember: name, action: "crash" }, { status: 202 });
  },
};
