/**
 * The part of `Deno.Kv` the services use, as one interface with two
 * backends: the embedded Deno KV (`Deno.openKv`, which satisfies it as it
 * is) and etcd (`./etcd/kv.ts`). Services are written once against
 * {@linkcode Kv}; which backend they get is decided in `./mod.ts`.
 *
 * The semantics are Deno KV's, and the conformance suite
 * (`./conformance_test.ts`) runs the same cases against both: keys are tuples
 * ordered by type (bytes < string < bigint < number < boolean) and then by
 * value; every committed write gets a versionstamp that is greater than every
 * earlier one; an atomic operation's checks and mutations commit together or
 * not at all; `sum` never loses an update; `expireIn` deletes a key some time
 * after it elapses, never before.
 *
 * @module
 */

/** An atomic operation: checks, then mutations, committed together or not at all. */
export interface KvAtomic {
  /** Commits only if each entry's key still has the versionstamp given (`null`: the key must not exist). */
  check(...checks: Deno.AtomicCheck[]): this;
  /** Sets `key` to `value`; with `expireIn` (ms) the key is deleted some time after that. */
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this;
  /** Deletes `key`. */
  delete(key: Deno.KvKey): this;
  /** Adds `n` to the `Deno.KvU64` at `key` (absent: 0), wrapping at 2^64; never a lost update. */
  sum(key: Deno.KvKey, n: bigint): this;
  /**
   * Commits: `{ ok: false }` when a check failed; throws when the store could not be reached in time, or (etcd) its
   * outcome is unknown. The versionstamp is new for every commit that writes; one that writes nothing answers the
   * current versionstamp on etcd (a new one on Deno KV): do not tell commits apart by it.
   */
  commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError>;
}

/** Entries of a range read, and where the next page starts. */
export interface KvListIterator<T> extends AsyncIterableIterator<Deno.KvEntry<T>> {
  /** Where a later `list` with `{ cursor }` continues, after the last entry yielded. */
  readonly cursor: string;
}

/** A store of tuple keys and values: the part of `Deno.Kv` the services use. */
export interface Kv {
  /** One key's entry (`value` and `versionstamp` null when absent). */
  get<T = unknown>(key: Deno.KvKey): Promise<Deno.KvEntryMaybe<T>>;
  /** Several keys' entries at one consistent point, in the order asked (Deno KV allows at most 10 keys). */
  getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
  ): Promise<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }>;
  /** Entries under a prefix or in `[start, end)`, in key order (or reverse), at most `limit`, after `cursor`. */
  list<T = unknown>(
    selector: Deno.KvListSelector,
    options?: Pick<Deno.KvListOptions, "limit" | "reverse" | "cursor" | "batchSize">,
  ): KvListIterator<T>;
  /** Sets one key (see {@linkcode KvAtomic.set}). */
  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): Promise<Deno.KvCommitResult>;
  /** Deletes one key. */
  delete(key: Deno.KvKey): Promise<void>;
  /** Starts an atomic operation. */
  atomic(): KvAtomic;
  /**
   * The entries of `keys` now, then again each time one of them changes
   * (changes close together may be reported once, with the latest values).
   * Cancel the stream to stop watching.
   */
  watch<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: Deno.KvKey }],
  ): ReadableStream<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }>;
  /** Closes the store; pending calls fail. */
  close(): void;
}
