/**
 * `watch(keys)` on etcd: the keys' entries read at one revision, then a
 * `/v3/watch` stream (newline-delimited JSON) over the range that holds
 * them, from the revision after. Each change to a watched key updates its
 * entry; the reader gets the latest entries whenever it asks after a change
 * (changes between two reads come as one). When the stream breaks or its
 * member dies or stalls (a status probe every deadline), the watch
 * reconnects to another member from the revision after the last one seen,
 * so no change is missed; if etcd compacted that history away, the entries
 * are read afresh. Canceling the stream or closing the store stops it.
 *
 * @module
 */
import { delay } from "../../async.ts";
import { MAX_READ_KEYS } from "../limits.ts";
import { etcdMemberStatus } from "./cluster.ts";
import { toBase64, type TxnRequest, txnResponseSchema, type WatchLine, watchLineSchema } from "./gateway.ts";
import { compareBytes } from "./keys.ts";
import type { KeySpace } from "./space.ts";

/** Lines of a streamed body. */
async function* lines(body: ReadableStream<Uint8Array<ArrayBuffer>>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffered.trim()) yield buffered.trim();
}

/** A watch of some keys of one store: its entries, and the stream that reports them. */
export class KeyWatch {
  readonly #space: KeySpace;
  readonly #keys: readonly Deno.KvKey[];
  readonly #base64: string[];
  readonly #range: { key: string; range_end?: string };
  readonly #stop = new AbortController();
  #entries: Deno.KvEntryMaybe<unknown>[];
  #revision = 0n;
  #version = 0;
  #emitted = 0;
  #wake: (() => void) | undefined;

  /** A watch of `keys` in `space` (not started until its stream is read). */
  constructor(space: KeySpace, keys: readonly Deno.KvKey[]) {
    if (keys.length > MAX_READ_KEYS) throw new TypeError(`Too many keys (max ${MAX_READ_KEYS})`);
    this.#space = space;
    this.#keys = keys;
    const bytes = keys.map((key) => space.bytesOf(key, "read"));
    this.#base64 = bytes.map(toBase64);
    this.#entries = keys.map((key) => ({ key, value: null, versionstamp: null }));
    const sorted = [...bytes].sort(compareBytes);
    const [first, last] = [sorted[0], sorted.at(-1)];
    // One stream over the range holding every key: from the first to just past the last.
    this.#range = !first || !last || compareBytes(first, last) === 0
      ? { key: this.#base64[0] ?? "" }
      : { key: toBase64(first), range_end: toBase64(new Uint8Array([...last, 0])) };
  }

  /** The stream of entries: the current ones first, then after each change. */
  stream<T extends readonly unknown[]>(): ReadableStream<{ [K in keyof T]: Deno.KvEntryMaybe<T[K]> }> {
    type Entries = { [K in keyof T]: Deno.KvEntryMaybe<T[K]> };
    return new ReadableStream<Entries>({
      start: () => {
        if (this.#keys.length > 0) void this.#run();
        else this.#changed();
      },
      pull: async (controller) => {
        while (this.#version === this.#emitted && !this.#stopped) {
          await new Promise<void>((resolve) => this.#wake = resolve);
        }
        if (this.#version === this.#emitted) return controller.close();
        this.#emitted = this.#version;
        controller.enqueue([...this.#entries] as unknown as Entries);
      },
      cancel: () => this.#end(),
    }, { highWaterMark: 0 });
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted || this.#space.client.closed;
  }

  #end(): void {
    this.#stop.abort();
    this.#wake?.();
  }

  #changed(): void {
    this.#version++;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let fresh = false;
    for (let failures = 0; !this.#stopped;) {
      try {
        if (!fresh) await this.#readAll();
        fresh = true;
        fresh = await this.#follow();
        failures = 0;
      } catch {
        failures++;
      }
      // Reconnecting at once after a clean end; backing off while the members fail.
      if (failures > 0) await delay(Math.min(50 * 2 ** failures, 1000), { signal: this.#stop.signal }).catch(() => {});
    }
    this.#wake?.();
  }

  // Reads every key at one revision; the watch follows from the next.
  async #readAll(): Promise<void> {
    const body: TxnRequest = { success: this.#base64.map((key) => ({ request_range: { key } })) };
    const call = this.#space.client.call("kv/txn", { body, kind: "read", signal: this.#stop.signal });
    const answer = txnResponseSchema.parse(await call);
    const entries = this.#keys.map((key, i) =>
      this.#space.entryOf(key, answer.responses?.[i]?.response_range?.kvs?.[0])
    );
    this.#revision = BigInt(answer.header.revision ?? "0");
    const same = this.#version > 0 &&
      entries.every((entry, i) => entry.versionstamp === this.#entries[i].versionstamp);
    this.#entries = entries;
    if (!same) this.#changed();
  }

  // Follows one stream until it ends; answers false when the history it needed was compacted.
  async #follow(): Promise<boolean> {
    const connection = new AbortController();
    const stop = () => connection.abort();
    this.#stop.signal.addEventListener("abort", stop, { once: true });
    const create = { ...this.#range, start_revision: String(this.#revision + 1n) };
    let probe: Promise<void> | undefined;
    try {
      // Inside the try: a stream that cannot be opened must not leave its listener on the watch's signal.
      const { response, endpoint } = await this.#space.client.stream("watch", {
        body: { create_request: create },
        signal: connection.signal,
      });
      probe = this.#probe(endpoint, connection);
      for await (const text of lines(response.body ?? new ReadableStream())) {
        const line = watchLineSchema.parse(JSON.parse(text));
        if (line.error) throw new Error(`etcd watch at ${endpoint}: ${line.error.message ?? text}`);
        if (line.result?.compact_revision) return false;
        if (line.result?.canceled) return true;
        this.#apply(line);
      }
      return true;
    } finally {
      connection.abort();
      this.#stop.signal.removeEventListener("abort", stop);
      await probe;
    }
  }

  #apply(line: WatchLine): void {
    let changed = false;
    for (const event of line.result?.events ?? []) {
      const revision = BigInt(event.kv.mod_revision ?? "0");
      if (revision > this.#revision) this.#revision = revision;
      this.#base64.forEach((key, i) => {
        if (key !== event.kv.key) return;
        this.#entries[i] = this.#space.entryOf(this.#keys[i], event.type === "DELETE" ? undefined : event.kv);
        changed = true;
      });
    }
    if (changed) this.#changed();
  }

  // A member that stops answering (paused, cut off) leaves its stream silent: ask it how it is, and move on if it
  // does not answer within the deadline.
  async #probe(endpoint: string, connection: AbortController): Promise<void> {
    const timeoutMs = this.#space.client.timeoutMs;
    while (!connection.signal.aborted) {
      await delay(timeoutMs, { signal: connection.signal }).catch(() => {});
      if (connection.signal.aborted) return;
      try {
        await etcdMemberStatus(endpoint, { timeoutMs, signal: connection.signal });
      } catch {
        if (connection.signal.aborted) return;
        this.#space.client.demote(endpoint);
        connection.abort();
      }
    }
  }
}
