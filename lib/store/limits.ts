/**
 * The most one atomic commit may hold on every backend: the smaller of Deno
 * KV's limits (100 checks, 1000 mutations) and etcd's defaults
 * (`--max-txn-ops`: 128 compares, and 128 operations per branch). On etcd a
 * check is one compare, a `set` or `delete` one operation, and a `sum` one
 * compare and one operation (it reads, then writes if nothing changed).
 * Services that build large commits split them to fit.
 *
 * @module
 */

/** Most checks plus sums in one commit. */
export const MAX_COMMIT_CHECKS = 100;

/** Most mutations (`set`, `delete`, `sum`) in one commit. */
export const MAX_COMMIT_MUTATIONS = 128;

/** Largest key written, in encoded bytes, as Deno KV allows (reads allow one byte more). */
export const MAX_KEY_BYTES = 2048;

/** Largest value, in serialized bytes, as Deno KV allows. */
export const MAX_VALUE_BYTES = 65_536;

/**
 * Most bytes of keys and values one commit writes, as Deno KV allows; on
 * etcd this keeps a commit, base64 and all, inside `--max-request-bytes`
 * (1.5 MiB).
 */
export const MAX_COMMIT_BYTES = 819_200;

/** Most keys one `getMany` or `watch` takes (Deno KV's limit, kept by the etcd backend too). */
export const MAX_READ_KEYS = 10;
