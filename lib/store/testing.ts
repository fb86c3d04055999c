/**
 * Test doubles of a store: a {@linkcode Kv} whose commits are held to the
 * limits every backend accepts ({@linkcode limitedKv}), and one whose commit
 * is applied but loses its answer ({@linkcode unsureKv}), as the etcd backend
 * reports a commit whose outcome it cannot know.
 *
 * @module
 */
import { RpcError } from "../rpc/errors.ts";
import { MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "./limits.ts";
import type { Kv, KvAtomic } from "./types.ts";

/** What one commit holds, as the limits count it. */
export interface CommitShape {
  /** Checks and sums. */
  checks: number;
  /** Sets, deletes and sums. */
  mutations: number;
  /** What it writes (set, delete or sum), in order, with a set's expiry. */
  writes: { key: Deno.KvKey; expireIn?: number }[];
}

// An atomic operation that counts what it holds and hands its commit to `onCommit`.
class ShapedAtomic implements KvAtomic {
  readonly #inner: KvAtomic;
  readonly #onCommit: OnCommit;
  readonly #shape: CommitShape = { checks: 0, mutations: 0, writes: [] };

  constructor(inner: KvAtomic, onCommit: OnCommit) {
    this.#inner = inner;
    this.#onCommit = onCommit;
  }

  check(...checks: Deno.AtomicCheck[]): this {
    this.#inner.check(...checks);
    this.#shape.checks += checks.length;
    return this;
  }

  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.#inner.set(key, value, options);
    return this.#wrote(key, options?.expireIn);
  }

  delete(key: Deno.KvKey): this {
    this.#inner.delete(key);
    return this.#wrote(key);
  }

  sum(key: Deno.KvKey, n: bigint): this {
    this.#inner.sum(key, n);
    this.#shape.checks += 1;
    return this.#wrote(key);
  }

  commit(): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    return this.#onCommit(this.#shape, () => this.#inner.commit());
  }

  #wrote(key: Deno.KvKey, expireIn?: number): this {
    this.#shape.mutations += 1;
    this.#shape.writes.push(expireIn === undefined ? { key } : { key, expireIn });
    return this;
  }
}

type OnCommit = (
  shape: CommitShape,
  commit: () => Promise<Deno.KvCommitResult | Deno.KvCommitError>,
) => Promise<Deno.KvCommitResult | Deno.KvCommitError>;

// `kv` whose atomic commits go through `onCommit`.
function withCommits(kv: Kv, onCommit: OnCommit): Kv {
  return new Proxy(kv, {
    get(target, key) {
      if (key === "atomic") return () => new ShapedAtomic(target.atomic(), onCommit);
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `kv` that refuses, before sending it, a commit holding more than the
 * limits every backend accepts (`MAX_COMMIT_CHECKS`, `MAX_COMMIT_MUTATIONS`:
 * the smaller of Deno KV's and etcd's), as the etcd backend does; `commits`
 * are the shapes of the commits sent so far.
 */
export function limitedKv(kv: Kv): { kv: Kv; commits: CommitShape[] } {
  const commits: CommitShape[] = [];
  const limited = withCommits(kv, (shape, commit) => {
    if (shape.checks > MAX_COMMIT_CHECKS || shape.mutations > MAX_COMMIT_MUTATIONS) {
      throw new RangeError(`a commit of ${shape.checks} checks and ${shape.mutations} mutations exceeds the limits`);
    }
    commits.push(shape);
    return commit();
  });
  return { kv: limited, commits };
}

/**
 * `kv` whose next commit matching `state.lose` (armed by the test) is applied
 * and then throws `unavailable` (outcome unknown), as the etcd backend does
 * when a commit's answer is lost; it fires once, then `state.lose` is
 * cleared and `state.lost` counted.
 */
export function unsureKv(kv: Kv): { kv: Kv; state: { lose?: (shape: CommitShape) => boolean; lost: number } } {
  const state: { lose?: (shape: CommitShape) => boolean; lost: number } = { lost: 0 };
  const unsure = withCommits(kv, async (shape, commit) => {
    const lose = state.lose;
    if (!lose?.(shape)) return await commit();
    state.lose = undefined;
    const result = await commit();
    state.lost += 1;
    throw new RpcError("unavailable", `commit ${result.ok ? "applied" : "refused"}, but its outcome is unknown`);
  });
  return { kv: unsure, state };
}
