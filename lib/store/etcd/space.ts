/**
 * One store's part of the etcd cluster: the client, the key prefix every
 * key of the store begins with (`bookstore/<service>/`, before the tuple
 * encoding), and its lease buckets. Turns tuple keys into etcd keys and etcd
 * answers into Deno KV entries.
 *
 * @module
 */
import { MAX_KEY_BYTES } from "../limits.ts";
import type { EtcdClient } from "./client.ts";
import { fromBase64, type KeyValue, toBase64 } from "./gateway.ts";
import { decodeKey, encodeKey } from "./keys.ts";
import type { LeaseBuckets } from "./leases.ts";
import { decodeValue } from "./values.ts";
import { versionstampOf } from "./versionstamps.ts";

/** One store's key space: its prefix, its client and its leases. */
export class KeySpace {
  /** The client of the cluster. */
  readonly client: EtcdClient;
  /** The bytes every key of this store begins with. */
  readonly prefix: Uint8Array;
  /** The leases of `expireIn`. */
  readonly leases: LeaseBuckets;

  /** The space under `options.prefix` of the cluster `options.client` reaches. */
  constructor(options: { client: EtcdClient; prefix: Uint8Array; leases: LeaseBuckets }) {
    this.client = options.client;
    this.prefix = options.prefix;
    this.leases = options.leases;
  }

  /** The etcd key of `key`, checked against Deno KV's limits (a written key is one byte shorter than a read one). */
  bytesOf(key: Deno.KvKey, use: "read" | "write"): Uint8Array {
    const encoded = encodeKey(key);
    if (use === "write" && encoded.length === 0) throw new TypeError("key cannot be empty");
    const max = use === "write" ? MAX_KEY_BYTES : MAX_KEY_BYTES + 1;
    if (encoded.length > max) throw new TypeError(`Key too large for ${use} (max ${max} bytes)`);
    return this.within(encoded);
  }

  /** The etcd key of encoded tuple bytes. */
  within(encoded: Uint8Array): Uint8Array {
    const bytes = new Uint8Array(this.prefix.length + encoded.length);
    bytes.set(this.prefix);
    bytes.set(encoded, this.prefix.length);
    return bytes;
  }

  /** The base64 etcd key of `key`, as the gateway takes it. */
  base64Of(key: Deno.KvKey, use: "read" | "write"): string {
    return toBase64(this.bytesOf(key, use));
  }

  /** The tuple bytes of an etcd key the gateway answered (base64), without the prefix. */
  tupleBytesOf(base64: string): Uint8Array {
    return fromBase64(base64).subarray(this.prefix.length);
  }

  /** The entry of `key` from what etcd answered for it (nothing: absent). */
  entryOf<T>(key: Deno.KvKey, kv: KeyValue | undefined): Deno.KvEntryMaybe<T> {
    if (!kv || kv.mod_revision === undefined) return { key, value: null, versionstamp: null };
    return { key, value: decodeValue(fromBase64(kv.value ?? "")) as T, versionstamp: versionstampOf(kv.mod_revision) };
  }

  /** The entry etcd answered in a range read, its key decoded. */
  listedEntry<T>(kv: KeyValue): Deno.KvEntry<T> {
    return this.entryOf<T>(decodeKey(this.tupleBytesOf(kv.key)), kv) as Deno.KvEntry<T>;
  }
}
