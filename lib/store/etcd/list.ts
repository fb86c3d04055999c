/**
 * `list` on etcd, page by page as Deno KV pages it: each page one range
 * read of at most `batchSize` keys starting after the cursor, so that a huge
 * range never comes back in one answer; the cursor after each entry is the
 * one Deno KV gives (`""` once the list is exhausted). Like Deno KV's, a
 * listing is not one snapshot: each page reads the store as it is then.
 *
 * @module
 */
import type { KvListIterator } from "../types.ts";
import { compareBytes } from "./keys.ts";
import { type RangeRequest, rangeResponseSchema, toBase64 } from "./gateway.ts";
import { cursorOf, rangeAfter, type SelectorBytes, selectorBytes } from "./selectors.ts";
import type { KeySpace } from "./space.ts";

/** Options of a listing: Deno KV's. */
export type ListOptions = Pick<Deno.KvListOptions, "limit" | "reverse" | "cursor" | "batchSize">;

const DEFAULT_BATCH = 100;
const MAX_BATCH = 1000;
// Without a batchSize, a limit sets the page size, up to this many.
const MAX_IMPLIED_BATCH = 500;

/** The entries of a selector, fetched a page at a time. */
export class EtcdListIterator<T> implements KvListIterator<T> {
  readonly #space: KeySpace;
  readonly #selectorKeys: Deno.KvListSelector;
  #selector: SelectorBytes | undefined;
  readonly #limit?: number;
  readonly #reverse: boolean;
  readonly #batchSize: number;
  #cursor: string | undefined;
  #started: boolean;
  #page: Deno.KvEntry<T>[] = [];
  #pageKeys: Uint8Array[] = [];
  #lastPage = false;
  #done = false;
  #count = 0;

  /** A listing of `selector` in `space`: its shape checked now, its keys when first read (as Deno KV does). */
  constructor(space: KeySpace, options: { selector: Deno.KvListSelector } & ListOptions) {
    const { limit, batchSize } = options;
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new TypeError("limit must be positive");
    if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize <= 0 || batchSize > MAX_BATCH)) {
      throw new TypeError(`Too many entries (max ${MAX_BATCH})`);
    }
    const { selector } = options;
    const has = (part: string) => part in selector && (selector as Record<string, unknown>)[part] !== undefined;
    if (has("prefix") && has("start") && has("end")) {
      throw new TypeError("Selector can not specify both 'start' and 'end' key when specifying 'prefix'");
    }
    if (!has("prefix") && !(has("start") && has("end"))) {
      throw new TypeError("Selector must specify either 'prefix' or both 'start' and 'end' key");
    }
    this.#space = space;
    this.#selectorKeys = selector;
    this.#limit = limit;
    this.#reverse = options.reverse ?? false;
    this.#batchSize = batchSize ?? Math.min(limit ?? DEFAULT_BATCH, MAX_IMPLIED_BATCH);
    this.#cursor = options.cursor || undefined;
    this.#started = this.#cursor !== undefined;
  }

  /** See {@linkcode KvListIterator.cursor}. */
  get cursor(): string {
    if (!this.#started) throw new Error("Cannot get cursor before first iteration");
    return this.#cursor ?? "";
  }

  /** The next entry. */
  async next(): Promise<IteratorResult<Deno.KvEntry<T>, undefined>> {
    if (this.#done || (this.#limit !== undefined && this.#count >= this.#limit)) {
      return { done: true, value: undefined };
    }
    if (this.#page.length === 0 && !this.#lastPage) await this.#fetch();
    const entry = this.#page.shift();
    const key = this.#pageKeys.shift();
    this.#started = true;
    if (!entry || !key) {
      this.#done = true;
      this.#cursor = "";
      return { done: true, value: undefined };
    }
    this.#cursor = cursorOf(this.#selector!, key);
    this.#count++;
    return { done: false, value: entry };
  }

  /** Itself: a listing is iterated once. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Deno.KvEntry<T>> {
    return this;
  }

  async #fetch(): Promise<void> {
    this.#selector ??= selectorBytes(this.#selectorKeys);
    const range = rangeAfter(this.#selector, { cursor: this.#cursor, reverse: this.#reverse });
    // Nothing lies in an empty range (what is left after the last key): no need to ask.
    if (compareBytes(range.start, range.end) >= 0) {
      this.#lastPage = true;
      return;
    }
    const request: RangeRequest = {
      key: toBase64(this.#space.within(range.start)),
      range_end: toBase64(this.#space.within(range.end)),
      limit: this.#batchSize,
    };
    if (this.#reverse) Object.assign(request, { sort_order: "DESCEND", sort_target: "KEY" });
    const answer = rangeResponseSchema.parse(
      await this.#space.client.call("kv/range", { body: request, kind: "read" }),
    );
    const kvs = answer.kvs ?? [];
    this.#page = kvs.map((kv) => this.#space.listedEntry<T>(kv));
    this.#pageKeys = kvs.map((kv) => this.#space.tupleBytesOf(kv.key));
    if (kvs.length < this.#batchSize) this.#lastPage = true;
  }
}
