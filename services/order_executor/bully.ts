/**
 * The Bully algorithm over HTTP, with epochs from the order queue.
 *
 * - The leader sends Heartbeat to every peer each interval.
 * - A follower that hears no heartbeat within the timeout sends Election to
 *   every higher id. Any answer means a higher replica takes over the
 *   election; no answer means this replica wins.
 * - The winner asks the queue for a new epoch (higher than any issued) and
 *   announces Coordinator with it to everyone.
 * - A replica that starts calls an election, and one that hears a lower
 *   leader does too, so the highest live id always ends up leading.
 * - A leader that hears of a higher epoch (a heartbeat refused, a Coordinator,
 *   or the queue's fence) steps down at once.
 * - A replica that has not reached the queue for longer than the heartbeat
 *   timeout is no leader: it steps down (its silence lets the others elect)
 *   and answers Election as no candidate, until it reaches the queue again.
 *
 * @module
 */
import {
  type CoordinatorRequest,
  type CoordinatorResponse,
  type ElectionRequest,
  type ElectionResponse,
  type ExecutorRole,
  type ExecutorStatus,
  type HeartbeatRequest,
  type HeartbeatResponse,
  isFenced,
} from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import { isPeerFailure } from "@bookstore/lib/rpc";
import { meter } from "@bookstore/lib/telemetry";
import type { ObservableGauge } from "@opentelemetry/api";

/** How a replica reaches its peers and the queue. */
export interface BullyTransport {
  /** Sends Heartbeat; answers whether the peer accepted it and the epoch it knows. */
  heartbeat(peerId: number, request: HeartbeatRequest): Promise<HeartbeatResponse>;
  /** Sends Election; resolves true when the (higher) peer answered. */
  election(peerId: number, request: ElectionRequest): Promise<boolean>;
  /** Sends Coordinator. */
  coordinator(peerId: number, request: CoordinatorRequest): Promise<void>;
  /** Asks the queue for a new epoch. */
  acquireEpoch(): Promise<number>;
}

/** Timing of the protocol. */
export interface BullyTiming {
  /** How often the leader sends heartbeats. */
  heartbeatIntervalMs: number;
  /** Silence after which a follower calls an election. */
  heartbeatTimeoutMs: number;
}

/** Options for {@linkcode BullyNode}. */
export interface BullyOptions {
  /** This replica's id. */
  id: number;
  /** The other replicas' ids. */
  peerIds: number[];
  /** Messaging. */
  transport: BullyTransport;
  /** Timing. */
  timing: BullyTiming;
  /** Logger. */
  log: Logger;
  /** Called when this replica becomes leader for `epoch`. */
  onLead: (epoch: number) => void;
  /** The clock (default `Date.now`); tests pass a fake one and call {@linkcode BullyNode.tick}. */
  now?: () => number;
}

const elections = meter.createCounter("bookstore.executor.elections", { description: "Elections started" });
const epochGauge: ObservableGauge = meter.createObservableGauge("bookstore.executor.epoch", {
  description: "Highest epoch known",
});

/** One replica's view of the election. */
export class BullyNode implements Disposable {
  readonly #options: BullyOptions;
  #role: ExecutorRole = "follower";
  #leaderId = 0;
  #epoch = 0;
  #lastHeartbeatAt = 0;
  #electing = false;
  // Since when every call to the queue has failed; undefined while it answers.
  #queueFailingSince?: number;
  #timer?: ReturnType<typeof setInterval>;
  #stopped = false;
  readonly #now: () => number;

  /** Creates the replica's election state. */
  constructor(options: BullyOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    epochGauge.addCallback((result) => result.observe(this.#epoch, { executor: String(options.id) }));
  }

  /** This replica's role. */
  get role(): ExecutorRole {
    return this.#role;
  }

  /** The epoch this replica knows (as leader: the one it leads). */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether this replica leads `epoch` right now. */
  leads(epoch: number): boolean {
    return this.#role === "leader" && this.#epoch === epoch && !this.#stopped;
  }

  /**
   * Records how a call to the queue went (the worker's dequeues and acks,
   * this node's AcquireEpoch). Failures for longer than the heartbeat timeout
   * make this replica step down and stop answering Election as a candidate.
   */
  noteQueue(reached: boolean): void {
    if (reached) this.#queueFailingSince = undefined;
    else this.#queueFailingSince ??= this.#now();
  }

  // Whether the queue has been out of reach for longer than the heartbeat timeout.
  #cutOffFromQueue(): boolean {
    return this.#queueFailingSince !== undefined &&
      this.#now() - this.#queueFailingSince > this.#options.timing.heartbeatTimeoutMs;
  }

  /** The status fields of the election. */
  status(): Pick<ExecutorStatus, "id" | "role" | "leaderId" | "epoch" | "lastHeartbeatMs"> {
    return {
      id: this.#options.id,
      role: this.#role,
      leaderId: this.#leaderId,
      epoch: this.#epoch,
      lastHeartbeatMs: this.#lastHeartbeatAt === 0 ? -1 : this.#now() - this.#lastHeartbeatAt,
    };
  }

  /** Starts the replica: calls an election, then ticks (heartbeats or failure detection) every heartbeat interval. */
  start(): void {
    this.#timer ??= setInterval(() => this.tick(), this.#options.timing.heartbeatIntervalMs);
    this.startElection("replica started");
  }

  /** Stops every timer; the replica takes no further part. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /** The same as {@linkcode BullyNode.stop}. */
  [Symbol.dispose](): void {
    this.stop();
  }

  #log(msg: string, fields: Record<string, unknown> = {}) {
    this.#options.log.info(msg, {
      id: this.#options.id,
      role: this.#role,
      epoch: this.#epoch,
      leaderId: this.#leaderId,
      ...fields,
    });
  }

  /**
   * One beat of the protocol, run by {@linkcode BullyNode.start}'s timer: a
   * leader sends heartbeats; a follower that heard none within the timeout
   * calls an election.
   */
  tick(): void {
    if (this.#stopped) return;
    if (this.#role === "leader" && this.#cutOffFromQueue()) {
      // Heartbeats would keep the others from taking over work this replica cannot do.
      this.stepDown(`cannot reach the queue for ${this.#now() - this.#queueFailingSince!} ms`);
      return;
    }
    if (this.#role === "leader") {
      this.#sendHeartbeats();
      return;
    }
    const silence = this.#now() - this.#lastHeartbeatAt;
    if (!this.#electing && silence > this.#options.timing.heartbeatTimeoutMs) {
      this.startElection(
        this.#leaderId === 0 ? "no leader known" : `no heartbeat from ${this.#leaderId} for ${silence} ms`,
      );
    }
  }

  #sendHeartbeats() {
    const epoch = this.#epoch;
    this.#lastHeartbeatAt = this.#now();
    for (const peerId of this.#options.peerIds) {
      this.#options.transport.heartbeat(peerId, { leaderId: this.#options.id, epoch }).then(
        (answer) => {
          if (!answer.accepted && answer.epoch > epoch) {
            this.stepDown(`replica ${peerId} knows epoch ${answer.epoch}`, {
              led: epoch,
              known: { epoch: answer.epoch, leaderId: answer.leaderId },
            });
          }
        },
        () => {/* A silent peer is its own problem; it will call an election when it returns. */},
      );
    }
  }

  /** Runs one Bully election (a no-op while one is already running). */
  async startElection(reason: string): Promise<void> {
    if (this.#electing || this.#stopped || this.#role === "leader") return;
    this.#electing = true;
    this.#role = "candidate";
    elections.add(1);
    this.#log("election started", { reason });
    try {
      const higher = this.#options.peerIds.filter((id) => id > this.#options.id);
      const answers = await Promise.all(
        higher.map((peerId) =>
          this.#options.transport.election(peerId, { candidateId: this.#options.id }).catch(() => false)
        ),
      );
      if (this.#role !== "candidate") return; // a Coordinator arrived meanwhile
      if (answers.some(Boolean)) {
        // A higher replica takes over; wait for its Coordinator (or elect again after the timeout).
        this.#role = "follower";
        this.#lastHeartbeatAt = this.#now();
        this.#log("a higher replica answered; waiting for its coordinator");
        return;
      }
      const epoch = await this.#options.transport.acquireEpoch();
      this.noteQueue(true);
      if (this.#stopped) return;
      // The queue's fence now names this replica. Unless a newer epoch was
      // announced meanwhile, lead with it: stepping aside now would leave the
      // fence pointing at a replica that does not work, until the next timeout.
      if (epoch <= this.#epoch) {
        if (this.#role === "candidate") this.#role = "follower";
        return;
      }
      this.#role = "leader";
      this.#leaderId = this.#options.id;
      this.#epoch = epoch;
      this.#lastHeartbeatAt = this.#now();
      this.#log("elected leader", { epoch });
      for (const peerId of this.#options.peerIds) {
        this.#options.transport.coordinator(peerId, { leaderId: this.#options.id, epoch }).catch(() => {});
      }
      this.#options.onLead(epoch);
    } catch (error) {
      if (this.#role === "candidate") this.#role = "follower";
      if (isFenced(error)) {
        // The queue refused: a live leader holds the fence. Ask again soon, in case it was its last call.
        this.noteQueue(true);
        this.#log("epoch refused", { reason: error.message });
        const { heartbeatTimeoutMs, heartbeatIntervalMs } = this.#options.timing;
        this.#lastHeartbeatAt = this.#now() - heartbeatTimeoutMs + 2 * heartbeatIntervalMs;
        return;
      }
      // No epoch (the queue is unreachable): stay a follower and try again after the timeout.
      if (isPeerFailure(error)) this.noteQueue(false);
      this.#log("election failed", { error });
      this.#lastHeartbeatAt = this.#now();
    } finally {
      this.#electing = false;
    }
  }

  /**
   * Steps down because a higher epoch exists. With `led`, only if this
   * replica still leads that epoch: a late failure from an earlier term must
   * not end the current one.
   */
  stepDown(reason: string, options: { led?: number; known?: { epoch: number; leaderId: number } } = {}): void {
    if (options.led !== undefined && !this.leads(options.led)) return;
    const known = options.known;
    const wasLeader = this.#role === "leader";
    if (known && known.epoch > this.#epoch) {
      this.#epoch = known.epoch;
      this.#leaderId = known.leaderId;
    }
    if (this.#role !== "follower") this.#role = "follower";
    this.#lastHeartbeatAt = this.#now();
    if (wasLeader) this.#log("stepped down", { reason });
  }

  /** Handles a Heartbeat from the leader. */
  onHeartbeat(request: HeartbeatRequest): HeartbeatResponse {
    if (request.epoch < this.#epoch) {
      return { accepted: false, epoch: this.#epoch, leaderId: this.#leaderId };
    }
    if (this.#role === "leader" && request.leaderId !== this.#options.id) {
      this.stepDown(`replica ${request.leaderId} leads epoch ${request.epoch}`);
    }
    this.#epoch = request.epoch;
    this.#leaderId = request.leaderId;
    this.#lastHeartbeatAt = this.#now();
    if (this.#role === "candidate" && !this.#electing) this.#role = "follower";
    if (request.leaderId < this.#options.id) this.startElection(`leader ${request.leaderId} has a lower id`);
    return { accepted: true, epoch: this.#epoch, leaderId: this.#leaderId };
  }

  /**
   * Handles an Election from a lower replica: answer, then take over the
   * election; a replica cut off from the queue answers that it is no
   * candidate, so the lower one goes on.
   */
  onElection(request: ElectionRequest): ElectionResponse {
    this.#log("election message", { from: request.candidateId });
    if (this.#cutOffFromQueue()) {
      if (this.#role === "leader") this.stepDown("cannot reach the queue");
      return { ok: false, responderId: this.#options.id };
    }
    if (this.#role === "leader") this.#sendHeartbeats();
    else this.startElection(`replica ${request.candidateId} called an election`);
    return { ok: true, responderId: this.#options.id };
  }

  /** Handles a Coordinator announcement. */
  onCoordinator(request: CoordinatorRequest): CoordinatorResponse {
    if (request.epoch < this.#epoch) return { accepted: false };
    if (this.#role === "leader" && request.leaderId !== this.#options.id) {
      this.stepDown(`replica ${request.leaderId} announced epoch ${request.epoch}`);
    }
    this.#epoch = request.epoch;
    this.#leaderId = request.leaderId;
    this.#lastHeartbeatAt = this.#now();
    if (this.#role === "candidate") this.#role = "follower";
    this.#log("new coordinator", { leader: request.leaderId });
    if (request.leaderId < this.#options.id) this.startElection(`coordinator ${request.leaderId} has a lower id`);
    return { accepted: true };
  }
}
