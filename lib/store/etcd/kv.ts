/**
 * The {@linkcode Kv} interface on an etcd cluster: Deno KV's semantics
 * (tuple keys in Deno KV's order, versionstamps, atomic checks, `sum`,
 * `expireIn`, `watch`) over etcd's JSON gateway, every key of the store
 * under its own prefix. Every call has a deadline; past it the call fails
 * with `unavailable` instead of waiting out a partition (see `./client.ts`).
 *
 * @module
 */
import { delay } from "../../async.ts";
import { MAX_READ_KEYS } from "../limits.ts";
import type { Kv, KvAtomic, KvListIterator } from "../types.ts";
import { EtcdAtomic } from "./atomic.ts";
import { EtcdClient } from "./client.ts";
import {
  leaseGrantResponseSchema,
  rangeResponseSchema,
  toBase64,
  type TxnRequest,
  txnResponseSchema,
} from "./gateway.ts";
import { LeaseBuckets } from "./leases.ts";
import { EtcdListIterator, type ListOptions } from "./list.ts";
import { KeySpace } from "./space.ts";
import { KeyWatch } from "./watch.ts";

/** Options of {@linkcode EtcdKv}. */
export interface EtcdKvOptions {
  /** The members' client URLs. */
  endpoints: readonly string[];
  /** What every key of this store begins with (`bookstore/<service>/`). */
  prefix: string;
  /** Deadline of one call to etcd (`config.store.etcdTimeoutMs`). */
  timeoutMs: number;
  /** The `fetch` calls go through (tests give a fake). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * A store on etcd.
 *
 * @example
 * ```ts ignore
 * import { EtcdKv } from "./kv.ts";
 * const kv = new EtcdKv({ endpoints: ["http://127.0.0.1:2379"], prefix: "bookstore/stock/", timeoutMs: 2000 });
 * await kv.atomic().check({ key: ["stock", "b1"], versionstamp: null }).set(["stock", "b1"], 3).commit();
 * ```
 */
export class EtcdKv implements Kv {
  readonly #space: KeySpace;

  /** A store under `options.prefix` of the cluster at `options.endpoints`. */
  constructor(options: EtcdKvOptions) {
    const client = new EtcdClient(options);
    const leases = new LeaseBuckets({
      grant: async (ttl) => {
        const answer = await client.call("lease/grant", { body: { TTL: ttl }, kind: "write" });
        return leaseGrantResponseSchema.parse(answer).ID;
      },
    });
    this.#space = new KeySpace({ client, prefix: new TextEncoder().encode(options.prefix), leases });
  }

  /** The cluster's client (its members, its deadline). */
  get client(): EtcdClient {
    return this.#space.client;
  }

  /** See {@linkcode Kv.get}. */
  async get<T = unknown>(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<T>> {
    const body = { key: this.#space.base64Of(key, "read") };
    const answer = rangeResponseSchema.parse(await this.#space.client.call("kv/range", { body, kind: "read" }));
    return this.#space.entryOf<T>(key, answer.kvs?.[0]);
  }

  /** See {@linkcode Kv.getMany}: one read-only transaction, so one consistent revision. */
  async getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
  ): Promise<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    if (keys.length > MAX_READ_KEYS) throw new TypeError(`Too many ranges (max ${MAX_READ_KEYS})`);
    if (keys.length === 0) return [] as unknown as { [K in keyof T]: Deno.KvEntryMaybe<T[K]> };
    const body: TxnRequest = {
      success: keys.map((key) => ({ request_range: { key: this.#space.base64Of(key, "read") } })),
    };
    const answer = txnResponseSchema.parse(await this.#space.client.call("kv/txn", { body, kind: "read" }));
    return keys.map((key, i) => this.#space.entryOf(key, answer.responses?.[i]?.response_range?.kvs?.[0])) as {
      [K in keyof T]: Deno.KvEntryMaybe<T[K]>;
    };
  }

  /** See {@linkcode Kv.list}. */
  list<T = unknown>(selector: Deno.KvListSelector, options: ListOptions = {}): KvListIterator<T> {
    return new EtcdListIterator<T>(this.#space, { selector, ...options });
  }

  /** See {@linkcode Kv.set}. */
  async set(key: Deno.KvKey, value: unknown, options: { expireIn?: number } = {}): Promise<Deno.KvCommitResult> {
    return await this.atomic().set(key, value, options).commit() as Deno.KvCommitResult;
  }

  /** See {@linkcode Kv.delete}. */
  async delete(key: Deno.KvKey): Promise<void> {
    await this.atomic().delete(key).commit();
  }

  /** See {@linkcode Kv.atomic}. */
  atomic(): KvAtomic {
    return new EtcdAtomic(this.#space);
  }

  /** See {@linkcode Kv.watch}. */
  watch<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
  ): ReadableStream<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    return new KeyWatch(this.#space, keys).stream<T>();
  }

  /** See {@linkcode Kv.close}: pending calls fail, watches end. */
  close(): void {
    this.#space.client.close();
  }

  /** Closes the store (`using kv = new EtcdKv(…)`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * How long a service starting up keeps asking the cluster before it gives up: long enough for an election, or for
 * members that start at the same time as the services on a crowded machine.
 */
export const OPEN_TIMEOUT_MS = 10_000;

/**
 * Opens a store on etcd once the cluster has answered one read (through
 * its Raft quorum), asking again, each time within `options.timeoutMs`,
 * until {@linkcode OPEN_TIMEOUT_MS} has passed; then fails with an error
 * that names the members and what to check.
 */
export async function openEtcdKv(options: EtcdKvOptions): Promise<EtcdKv> {
  const kv = new EtcdKv(options);
  const body = { key: toBase64(new TextEncoder().encode(options.prefix)), limit: 1 };
  const deadline = Date.now() + Math.max(OPEN_TIMEOUT_MS, options.timeoutMs);
  for (;;) {
    try {
      await kv.client.call("kv/range", { body, kind: "read" });
      return kv;
    } catch (error) {
      if (Date.now() + RETRY_OPEN_MS < deadline) {
        await delay(RETRY_OPEN_MS);
        continue;
      }
      kv.close();
      const endpoints = options.endpoints.join(",");
      throw new Error(
        `the etcd cluster at ${endpoints} did not answer within ${Math.max(OPEN_TIMEOUT_MS, options.timeoutMs)} ms ` +
          `(${error instanceof Error ? error.message : error}). Check that its members run and have a leader ` +
          `(\`etcdctl --endpoints=${endpoints} endpoint status\`), that BOOKSTORE_ETCD_ENDPOINTS names them, ` +
          `or run with BOOKSTORE_STORE=kv, which needs no cluster.`,
        { cause: error },
      );
    }
  }
}

// Between two attempts to open: a member refusing connections answers at once, and would be asked in a busy loop.
const RETRY_OPEN_MS = 250;
