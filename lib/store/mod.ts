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
import { openEtcdKv } from "./etcd/kv.ts";
import type { Kv } from "./types.ts";

export type { Kv, KvAtomic, KvListIterator } from "./types.ts";
export { MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS, MAX_READ_KEYS } from "./limits.ts";

/** The prefix of the service `name`'s keys in the shared etcd cluster. */
export function etcdPrefix(name: string): string {
  return `bookstore/${name}/`;
}

/**
 * Opens the store of the service `name`: its Deno KV file under the data
 * directory, or its prefix `bookstore/<name>/` of the etcd cluster, once the
 * cluster has answered within `config.store.etcdTimeoutMs` (otherwise a
 * start-up error naming the members).
 */
export async function openStore(config: Config, name: string): Promise<Kv> {
  if (config.store.kind === "etcd") {
    const { etcdEndpoints: endpoints, etcdTimeoutMs: timeoutMs } = config.store;
    return await openEtcdKv({ endpoints, prefix: etcdPrefix(name), timeoutMs });
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await Deno.openKv(`${config.dataDir}/${name}.kv`);
}
