/**
 * An atomic operation as ONE etcd transaction: each check a compare (a key
 * that must not exist: `version == 0`; else `mod_revision == r`), the
 * mutations the success branch. etcd refuses two writes of one key in a
 * transaction, so the mutations are first folded into one effect per key,
 * applied in order as Deno KV applies them.
 *
 * `sum` reads the counter, then writes the new value under a compare of the
 * revision it read: if another writer got there first the transaction
 * fails, and its failure branch answers the checked and summed keys as they
 * are now. A check that no longer holds makes the commit `{ ok: false }`;
 * otherwise only a sum lost the race, and the transaction is tried again
 * with the fresh values (bounded). No update is lost, none applied twice.
 *
 * @module
 */
import type { KvAtomic } from "../types.ts";
import { MAX_COMMIT_BYTES, MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "../limits.ts";
import { RpcError } from "../../rpc/errors.ts";
import { EtcdError } from "./client.ts";
import {
  type Compare,
  fromBase64,
  type KeyValue,
  type RequestOp,
  toBase64,
  type TxnRequest,
  txnResponseSchema,
} from "./gateway.ts";
import type { KeySpace } from "./space.ts";
import { decodeValue, encodeU64, encodeValue } from "./values.ts";
import { revisionOf, versionstampOf } from "./versionstamps.ts";

/** How many times a commit whose sums lost races is tried again before it gives up. */
export const SUM_ATTEMPTS = 32;

const U64_MASK = (1n << 64n) - 1n;
const NOT_U64 = "Failed to perform 'sum' mutation on a non-U64 value in the database";
// etcd's answer when a key's lease expired between the grant and the commit.
const LEASE_GONE = /requested lease not found/;

type Mutation =
  | { type: "set"; key: Deno.KvKey; value: unknown; expireIn?: number }
  | { type: "delete"; key: Deno.KvKey }
  | { type: "sum"; key: Deno.KvKey; n: bigint };

/** What a commit does to one key: write bytes, delete, or add to whatever is stored. */
type Effect =
  | { kind: "put"; value: Uint8Array; expireIn?: number }
  | { kind: "delete" }
  | { kind: "sum"; n: bigint };

function u64Of(bytes: Uint8Array): bigint {
  const value = decodeValue(bytes);
  if (!(value instanceof Deno.KvU64)) throw new TypeError(NOT_U64);
  return value.value;
}

// One effect per key, as the mutations applied in order would leave it.
function fold(effects: Map<string, Effect>, key: string, mutation: Mutation): void {
  const before = effects.get(key);
  if (mutation.type === "set") {
    effects.set(key, { kind: "put", value: encodeValue(mutation.value), expireIn: mutation.expireIn });
  } else if (mutation.type === "delete") {
    effects.set(key, { kind: "delete" });
  } else if (!before || before.kind === "sum") {
    effects.set(key, { kind: "sum", n: ((before?.n ?? 0n) + mutation.n) & U64_MASK });
  } else {
    const base = before.kind === "put" ? u64Of(before.value) : 0n;
    effects.set(key, { kind: "put", value: encodeU64((base + mutation.n) & U64_MASK) });
  }
}

/** An atomic operation on one store's key space of the etcd cluster. */
export class EtcdAtomic implements KvAtomic {
  readonly #space: KeySpace;
  readonly #checks: Deno.AtomicCheck[] = [];
  readonly #mutations: Mutation[] = [];

  /** An operation on `space`. */
  constructor(space: KeySpace) {
    this.#space = space;
  }

  /** See {@linkcode KvAtomic.check}. */
  check(...checks: Deno.AtomicCheck[]): this {
    // Checked when committed, as Deno KV does.
    for (const check of checks) this.#checks.push({ key: check.key, versionstamp: check.versionstamp });
    return this;
  }

  /** See {@linkcode KvAtomic.set}. */
  set(key: Deno.KvKey, value: unknown, options: { expireIn?: number } = {}): this {
    this.#mutations.push({ type: "set", key, value, expireIn: options.expireIn });
    return this;
  }

  /** See {@linkcode KvAtomic.delete}. */
  delete(key: Deno.KvKey): this {
    this.#mutations.push({ type: "delete", key });
    return this;
  }

  /** See {@linkcode KvAtomic.sum}. */
  sum(key: Deno.KvKey, n: bigint): this {
    // Deno.KvU64 refuses what is not a 64-bit unsigned integer, as Deno KV's sum does.
    this.#mutations.push({ type: "sum", key, n: new Deno.KvU64(n).value });
    return this;
  }

  /** See {@linkcode KvAtomic.commit}. */
  async commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const space = this.#space;
    const sums = this.#mutations.filter((m) => m.type === "sum").length;
    if (this.#checks.length + sums > MAX_COMMIT_CHECKS) {
      throw new TypeError(`Too many checks (max ${MAX_COMMIT_CHECKS}, sums included): see lib/store/limits.ts`);
    }
    if (this.#mutations.length > MAX_COMMIT_MUTATIONS) {
      throw new TypeError(`Too many mutations (max ${MAX_COMMIT_MUTATIONS}): see lib/store/limits.ts`);
    }
    const checks = this.#checks.map((check) => ({
      key: space.base64Of(check.key, "read"),
      revision: check.versionstamp === null ? null : revisionOf(check.versionstamp) ?? "-1",
    }));
    const effects = new Map<string, Effect>();
    let bytes = 0;
    for (const mutation of this.#mutations) {
      const key = space.bytesOf(mutation.key, "write");
      const base64 = toBase64(key);
      fold(effects, base64, mutation);
      const effect = effects.get(base64);
      bytes += key.length + (effect?.kind === "put" ? effect.value.length : 8);
    }
    if (bytes > MAX_COMMIT_BYTES) throw new TypeError(`Total mutation size too large (max ${MAX_COMMIT_BYTES} bytes)`);

    for (let leaseRetry = 0;; leaseRetry++) {
      const leases = await this.#leases(effects);
      try {
        return await this.#commit(checks, effects, leases);
      } catch (error) {
        // A lease that ran out before the commit reached etcd: the commit did nothing; grant anew.
        if (!(error instanceof EtcdError && LEASE_GONE.test(error.etcdMessage)) || leaseRetry > 0) throw error;
        for (const lease of leases.values()) space.leases.forget(lease);
      }
    }
  }

  async #leases(effects: Map<string, Effect>): Promise<Map<string, string>> {
    const leases = new Map<string, string>();
    await Promise.all(
      [...effects].map(async ([key, effect]) => {
        if (effect.kind === "put" && effect.expireIn !== undefined) {
          leases.set(key, await this.#space.leases.leaseFor(effect.expireIn));
        }
      }),
    );
    return leases;
  }

  async #commit(
    checks: { key: string; revision: string | null }[],
    effects: Map<string, Effect>,
    leases: Map<string, string>,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const summed = [...effects].filter(([, effect]) => effect.kind === "sum").map(([key]) => key);
    // Sums need the stored counters; a lost race answers them fresh in the failure branch.
    let current = summed.length > 0 ? await this.#read(summed) : new Map<string, KeyValue>();
    const watched = [...new Set([...checks.map((check) => check.key), ...summed])];
    for (let attempt = 0; attempt < SUM_ATTEMPTS; attempt++) {
      const compare: Compare[] = checks.map(({ key, revision }) =>
        revision === null
          ? { key, target: "VERSION", result: "EQUAL", version: "0" }
          : { key, target: "MOD", result: "EQUAL", mod_revision: revision }
      );
      const success: RequestOp[] = [];
      for (const [key, effect] of effects) {
        if (effect.kind === "delete") {
          success.push({ request_delete_range: { key } });
          continue;
        }
        let value: Uint8Array;
        if (effect.kind === "sum") {
          const stored = current.get(key);
          const base = stored ? u64Of(fromBase64(stored.value ?? "")) : 0n;
          value = encodeU64((base + effect.n) & U64_MASK);
          compare.push(
            stored?.mod_revision
              ? { key, target: "MOD", result: "EQUAL", mod_revision: stored.mod_revision }
              : { key, target: "VERSION", result: "EQUAL", version: "0" },
          );
        } else {
          value = effect.value;
        }
        success.push({ request_put: { key, value: toBase64(value), lease: leases.get(key) } });
      }
      const request: TxnRequest = { compare, success };
      if (summed.length > 0) request.failure = watched.map((key) => ({ request_range: { key } }));
      const answer = txnResponseSchema.parse(await this.#space.client.call("kv/txn", { body: request, kind: "write" }));
      if (answer.succeeded) return { ok: true, versionstamp: versionstampOf(answer.header.revision ?? "0") };
      if (summed.length === 0) return { ok: false };
      const now = new Map<string, KeyValue>();
      for (const response of answer.responses ?? []) {
        for (const kv of response.response_range?.kvs ?? []) now.set(kv.key, kv);
      }
      const checkFailed = checks.some(({ key, revision }) =>
        revision === null ? now.has(key) : now.get(key)?.mod_revision !== revision
      );
      if (checkFailed) return { ok: false };
      current = now;
    }
    throw new RpcError("unavailable", `a commit's sums lost ${SUM_ATTEMPTS} races in a row; try again`);
  }

  async #read(keys: string[]): Promise<Map<string, KeyValue>> {
    const body: TxnRequest = { success: keys.map((key) => ({ request_range: { key } })) };
    const answer = txnResponseSchema.parse(await this.#space.client.call("kv/txn", { body, kind: "read" }));
    const found = new Map<string, KeyValue>();
    for (const response of answer.responses ?? []) {
      for (const kv of response.response_range?.kvs ?? []) found.set(kv.key, kv);
    }
    return found;
  }
}
