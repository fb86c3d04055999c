/**
 * The services' state: one interface ({@linkcode Kv}, the part of `Deno.Kv`
 * they use) and the backend the configuration picks — an embedded Deno KV
 * file per service (`BOOKSTORE_STORE=kv`, the default) or one replicated etcd
 * cluster shared by all, each service under its own key prefix
 * (`BOOKSTORE_STORE=etcd`).
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Kv } from "./types.ts";

export type { Kv, KvAtomic, KvListIterator } from "./types.ts";
export { MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "./limits.ts";

/**
 * Opens the store of the service `name`: its Deno KV file under the data
 * directory, or its prefix `bookstore/<name>/` of the etcd cluster.
 */
export async function openStore(config: Config, name: string): Promise<Kv> {
  if (config.store.kind === "etcd") {
    throw new Error("BOOKSTORE_STORE=etcd: the etcd backend is being written (lib/store/etcd/kv.ts)");
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await Deno.openKv(`${config.dataDir}/${name}.kv`);
}
