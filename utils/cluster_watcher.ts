/**
 * Watches the cluster for the live cluster page: reads it while someone is
 * looking, tells every subscriber, and remembers each change of leadership
 * it saw (epoch, leader, when) as the page's election timeline. Epochs come
 * from the queue's fence, the authority that issues them; the replicas'
 * own views stand in while the queue cannot be reached.
 *
 * @module
 */
import type { ClusterView } from "@bookstore/lib/contracts";
import type { ShopCluster } from "./shop_api.ts";

/** A change of leadership as the watcher saw it. */
export interface Election {
  /** The new epoch. */
  epoch: number;
  /** The replica leading it. */
  leaderId: number;
  /** When it was first seen (RFC 3339). */
  at: string;
}

/** What subscribers receive. */
export interface ClusterSnapshot {
  /** The cluster, or why it could not be read. */
  cluster: ShopCluster | { error: string };
  /** Recent elections, newest first. */
  elections: Election[];
  /** When it was read (RFC 3339). */
  at: string;
}

/** Options for {@linkcode ClusterWatcher}. */
export interface ClusterWatcherOptions {
  /** How often the cluster is read while someone watches (default 500 ms). */
  intervalMs?: number;
  /** How many elections are remembered (default 12). */
  keep?: number;
}

/** The leader and epoch a cluster view shows, if any. */
export function leadershipOf(cluster: ClusterView): { epoch: number; leaderId: number } | undefined {
  if (cluster.queue.reachable && cluster.queue.epoch > 0) {
    return { epoch: cluster.queue.epoch, leaderId: cluster.queue.leaderId };
  }
  const leaders = cluster.executors.flatMap((r) => r.reachable && r.role === "leader" ? [r] : []);
  const newest = leaders.sort((a, b) => b.epoch - a.epoch)[0];
  return newest && { epoch: newest.epoch, leaderId: newest.id };
}

/** Reads the cluster on demand and while subscribed. */
export class ClusterWatcher {
  readonly #read: () => Promise<ShopCluster>;
  readonly #intervalMs: number;
  readonly #keep: number;
  readonly #listeners = new Set<(snapshot: ClusterSnapshot) => void>();
  #elections: Election[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Watches the cluster that `read` returns. */
  constructor(read: () => Promise<ShopCluster>, options: ClusterWatcherOptions = {}) {
    this.#read = read;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#keep = options.keep ?? 12;
  }

  /** Reads the cluster now, recording any change of leadership. */
  async snapshot(): Promise<ClusterSnapshot> {
    const at = new Date().toISOString();
    try {
      const cluster = await this.#read();
      const leadership = leadershipOf(cluster);
      const last = this.#elections[0];
      if (leadership && (!last || leadership.epoch > last.epoch)) {
        this.#elections = [{ ...leadership, at }, ...this.#elections].slice(0, this.#keep);
      }
      return { cluster, elections: this.#elections, at };
    } catch (error) {
      return { cluster: { error: (error as Error).message }, elections: this.#elections, at };
    }
  }

  /** Calls `listener` with every new snapshot until the returned function is called. */
  subscribe(listener: (snapshot: ClusterSnapshot) => void): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) this.#schedule(0);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #schedule(delayMs: number) {
    this.#timer = setTimeout(async () => {
      const snapshot = await this.snapshot();
      for (const listener of this.#listeners) listener(snapshot);
      if (this.#listeners.size > 0) this.#schedule(this.#intervalMs);
      else this.#timer = undefined;
    }, delayMs);
  }
}
