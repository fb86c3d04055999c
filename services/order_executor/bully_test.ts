/**
 * The Bully election in memory: a fake transport stands for the peers and
 * the queue, a fake clock for time, and the tests drive the protocol's
 * beat (`tick`) themselves, so every path runs without a process or a timer.
 */
import assert from "node:assert/strict";
import { delay } from "@bookstore/lib/async";
import type {
  CoordinatorRequest,
  ElectionRequest,
  HeartbeatRequest,
  HeartbeatResponse,
} from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { BullyNode, type BullyTransport } from "./bully.ts";
import { RpcError } from "@bookstore/lib/rpc";

const TIMING = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 };

/** Peers and a queue that answer as told, and remember what they were sent. */
class FakeTransport implements BullyTransport {
  /** Peers that answer Election (the others are down). */
  alive = new Set<number>();
  /** The queue's last issued epoch; `undefined` makes the queue unreachable. */
  issued: number | undefined = 0;
  /** How peers answer heartbeats. */
  heartbeatAnswer: (peerId: number, request: HeartbeatRequest) => HeartbeatResponse = (_peer, request) => ({
    accepted: true,
    epoch: request.epoch,
    leaderId: request.leaderId,
  });
  readonly sent: { kind: string; peerId: number; request: unknown }[] = [];

  heartbeat(peerId: number, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.sent.push({ kind: "heartbeat", peerId, request });
    if (!this.alive.has(peerId)) return Promise.reject(new Error("down"));
    return Promise.resolve(this.heartbeatAnswer(peerId, request));
  }

  election(peerId: number, request: ElectionRequest): Promise<boolean> {
    this.sent.push({ kind: "election", peerId, request });
    return this.alive.has(peerId) ? Promise.resolve(true) : Promise.reject(new Error("down"));
  }

  coordinator(peerId: number, request: CoordinatorRequest): Promise<void> {
    this.sent.push({ kind: "coordinator", peerId, request });
    return this.alive.has(peerId) ? Promise.resolve() : Promise.reject(new Error("down"));
  }

  acquireEpoch(): Promise<number> {
    if (this.issued === undefined) return Promise.reject(new Error("queue unreachable"));
    this.issued += 1;
    return Promise.resolve(this.issued);
  }

  to(kind: string): number[] {
    return this.sent.filter((message) => message.kind === kind).map((message) => message.peerId);
  }
}

/** A replica on a fake transport and clock; `led` records every epoch it was elected for. */
function replica(id: number, peerIds: number[]) {
  const transport = new FakeTransport();
  const clock = { now: 1_000_000 };
  const led: number[] = [];
  const node = new BullyNode({
    id,
    peerIds,
    transport,
    timing: TIMING,
    log: createLogger("test", { write: () => {} }),
    onLead: (epoch) => led.push(epoch),
    now: () => clock.now,
  });
  return { node, transport, clock, led };
}

/** Lets fire-and-forget messages and elections started by handlers run. */
const settle = () => delay(0);

/** Lets the heartbeat timeout pass on the fake clock and runs one beat. */
async function silence(node: BullyNode, clock: { now: number }) {
  clock.now += TIMING.heartbeatTimeoutMs + 1;
  node.tick();
  await settle();
}

Deno.test("the highest replica wins at once, with a new epoch from the queue, and announces it", async () => {
  const { node, transport, led } = replica(4, [1, 2, 3]);
  transport.alive = new Set([1, 2, 3]);
  transport.issued = 6;
  await node.startElection("replica started");
  assert.equal(node.role, "leader");
  assert.equal(node.epoch, 7);
  assert.deepEqual(led, [7]);
  assert.deepEqual(transport.to("election"), [], "nobody is higher");
  assert.deepEqual(transport.to("coordinator"), [1, 2, 3]);
  assert.ok(node.leads(7));
  assert.deepEqual(node.status(), { id: 4, role: "leader", leaderId: 4, epoch: 7, lastHeartbeatMs: 0 });
});

Deno.test("a lower replica defers to a higher one that answers, and elects again when no coordinator comes", async () => {
  const { node, transport, clock, led } = replica(2, [1, 3, 4]);
  transport.alive = new Set([4]);
  await node.startElection("no leader known");
  assert.deepEqual(transport.to("election"), [3, 4], "Election goes to higher ids only");
  assert.equal(node.role, "follower");
  assert.deepEqual(led, []);

  clock.now += TIMING.heartbeatTimeoutMs; // not yet past the timeout
  node.tick();
  await settle();
  assert.equal(transport.to("election").length, 2);

  transport.alive = new Set(); // 4 died before announcing itself
  clock.now += 1;
  node.tick();
  await settle();
  assert.equal(node.role, "leader");
  assert.deepEqual(led, [1]);
});

Deno.test("a follower that hears heartbeats stays; silence past the timeout starts an election", async () => {
  const { node, transport, clock } = replica(3, [1, 2, 4]);
  assert.deepEqual(node.onHeartbeat({ leaderId: 4, epoch: 5 }), { accepted: true, epoch: 5, leaderId: 4 });
  for (let i = 0; i < 10; i++) {
    clock.now += TIMING.heartbeatIntervalMs;
    node.onHeartbeat({ leaderId: 4, epoch: 5 });
    node.tick();
  }
  assert.deepEqual(transport.to("election"), []);
  assert.equal(node.status().lastHeartbeatMs, 0);

  transport.issued = 5;
  await silence(node, clock);
  assert.deepEqual(transport.to("election"), [4]);
  assert.equal(node.role, "leader");
  assert.equal(node.epoch, 6);
});

Deno.test("a leader sends heartbeats every beat, and steps down when a peer knows a newer epoch", async () => {
  const { node, transport } = replica(4, [1, 2, 3]);
  transport.alive = new Set([1, 2, 3]);
  await node.startElection("replica started");
  const epoch = node.epoch;
  node.tick();
  await settle();
  assert.deepEqual(transport.to("heartbeat"), [1, 2, 3]);
  transport.heartbeatAnswer = (peerId, request) =>
    peerId === 2 ? { accepted: false, epoch: epoch + 3, leaderId: 3 } : { accepted: true, ...request };
  node.tick();
  await settle();
  assert.equal(node.role, "follower");
  assert.equal(node.epoch, epoch + 3);
  assert.equal(node.status().leaderId, 3);
  assert.equal(node.leads(epoch), false);
});

Deno.test("stale heartbeats and coordinators are refused; a newer coordinator deposes a leader", async () => {
  const { node, transport } = replica(3, [1, 2, 4]);
  transport.issued = 9;
  transport.alive = new Set();
  await node.startElection("no leader known");
  assert.equal(node.epoch, 10);
  assert.deepEqual(node.onHeartbeat({ leaderId: 4, epoch: 9 }), { accepted: false, epoch: 10, leaderId: 3 });
  assert.deepEqual(node.onCoordinator({ leaderId: 4, epoch: 9 }), { accepted: false });
  assert.equal(node.role, "leader");
  assert.deepEqual(node.onCoordinator({ leaderId: 4, epoch: 11 }), { accepted: true });
  assert.equal(node.role, "follower");
  assert.equal(node.status().leaderId, 4);
});

Deno.test("a replica that hears a lower leader, or a lower candidate, takes over the election", async () => {
  const { node, transport, led } = replica(4, [1, 2, 3]);
  transport.issued = 2;
  node.onHeartbeat({ leaderId: 2, epoch: 2 });
  await settle();
  assert.equal(node.role, "leader", "the restarted higher replica takes the lead back");
  assert.deepEqual(led, [3]);

  const lower = replica(3, [1, 2, 4]);
  lower.transport.alive = new Set([4]);
  assert.deepEqual(lower.node.onElection({ candidateId: 1 }), { ok: true, responderId: 3 });
  await settle();
  assert.deepEqual(lower.transport.to("election"), [4], "it calls its own election among higher ids");
  assert.equal(lower.node.role, "follower");
});

Deno.test("without an epoch from the queue a candidate stays a follower and tries again later", async () => {
  const { node, transport, clock, led } = replica(4, [1, 2, 3]);
  transport.issued = undefined;
  await node.startElection("replica started");
  assert.equal(node.role, "follower");
  assert.deepEqual(led, []);
  transport.issued = 0;
  await silence(node, clock);
  assert.equal(node.role, "leader");
  assert.deepEqual(led, [1]);
});

Deno.test("a late refusal from an earlier term does not end the current one; a stopped replica does nothing", async () => {
  const { node, transport, clock } = replica(4, [1, 2, 3]);
  await node.startElection("replica started");
  const first = node.epoch;
  node.stepDown("fenced", { led: first });
  assert.equal(node.role, "follower");
  await silence(node, clock);
  const second = node.epoch;
  assert.ok(second > first);
  node.stepDown("a late fence from the first term", { led: first });
  assert.ok(node.leads(second), "still leads the second term");

  node[Symbol.dispose]();
  assert.equal(node.leads(second), false);
  const before = transport.sent.length;
  node.tick();
  await node.startElection("after stop");
  assert.equal(transport.sent.length, before, "nothing is sent after stop");
});

Deno.test("a won election whose epoch is not newer than one already announced leaves the candidate a follower", async () => {
  const { node, transport, led } = replica(3, [1, 2, 4]);
  transport.issued = 5; // the queue hands out 6, but 2 already announced 10
  node.onHeartbeat({ leaderId: 2, epoch: 10 });
  await settle();
  assert.deepEqual(transport.to("election"), [4], "a lower leader makes it call an election");
  assert.equal(node.role, "follower");
  assert.equal(node.epoch, 10);
  assert.deepEqual(led, []);
});

Deno.test("a Coordinator that arrives during an election ends it", async () => {
  const { node, transport, led } = replica(2, [1, 3, 4]);
  const answers: ((ok: boolean) => void)[] = [];
  transport.election = (peerId, request) => {
    transport.sent.push({ kind: "election", peerId, request });
    return new Promise<boolean>((resolve) => answers.push(resolve));
  };
  const election = node.startElection("no leader known");
  assert.equal(node.role, "candidate");
  assert.deepEqual(node.onCoordinator({ leaderId: 4, epoch: 3 }), { accepted: true });
  for (const answer of answers) answer(false);
  await election;
  assert.equal(node.role, "follower");
  assert.equal(node.status().leaderId, 4);
  assert.deepEqual(led, [], "it does not lead on top of the announced leader");
});

Deno.test("a leader answers an Election with heartbeats; another leader's heartbeat of a newer epoch deposes it", async () => {
  const { node, transport } = replica(3, [1, 2, 4]);
  transport.alive = new Set([1, 2]);
  await node.startElection("replica started");
  assert.equal(node.role, "leader");
  assert.deepEqual(node.onElection({ candidateId: 1 }), { ok: true, responderId: 3 });
  await settle();
  assert.deepEqual(transport.to("heartbeat"), [1, 2, 4], "it reasserts itself instead of electing again");
  assert.deepEqual(node.onHeartbeat({ leaderId: 4, epoch: node.epoch + 1 }), {
    accepted: true,
    epoch: node.epoch,
    leaderId: 4,
  });
  assert.equal(node.role, "follower");
  assert.equal(node.status().leaderId, 4);
});

Deno.test("a candidate refused an epoch by a live leader's lease stays a follower and asks again soon", async () => {
  const { node, transport, clock, led } = replica(3, [1, 2, 4]);
  let refusals = 1;
  transport.acquireEpoch = () => {
    if (refusals-- > 0) {
      return Promise.reject(new RpcError("failed_precondition", "AcquireEpoch refused: executor 4 leads epoch 7"));
    }
    return Promise.resolve(8);
  };
  await node.startElection("no heartbeat from 4");
  assert.equal(node.role, "follower");
  assert.deepEqual(led, []);
  // Two beats later, not a whole heartbeat timeout, it tries again (the holder may have made its last call).
  clock.now += 2 * TIMING.heartbeatIntervalMs + 1;
  node.tick();
  await settle();
  assert.equal(node.role, "leader");
  assert.deepEqual(led, [8]);
});

Deno.test("a replica cut off from the queue past the heartbeat timeout is no leader and no candidate", async () => {
  const { node, transport, clock } = replica(4, [1, 2, 3]);
  transport.alive = new Set([1, 2, 3]);
  await node.startElection("replica started");
  node.noteQueue(false);
  clock.now += TIMING.heartbeatTimeoutMs; // not yet past
  node.tick();
  assert.equal(node.role, "leader");
  const sent = transport.to("heartbeat").length;
  clock.now += 1;
  node.tick();
  await settle();
  assert.equal(node.role, "follower", "it stepped down");
  assert.equal(transport.to("heartbeat").length, sent, "and sent no heartbeat");
  assert.deepEqual(node.onElection({ candidateId: 3 }), { ok: false, responderId: 4 });
  node.noteQueue(true);
  assert.deepEqual(node.onElection({ candidateId: 3 }), { ok: true, responderId: 4 });
});
