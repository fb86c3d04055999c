import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import type { RpcError } from "./rpc/errors.ts";
import {
  type AdvanceRequest,
  CLOCK_PROCESSES,
  type EventGraph,
  eventGraph,
  orderEventsService,
  rejection,
  type ReportOutcomeRequest,
  START_EVENT,
  VALIDATION_EVENTS,
  VALIDATION_GRAPH,
  type ValidatorName,
  VALIDATORS,
} from "./contracts/mod.ts";
import { clockFindings } from "../tests/support/event_graph.ts";
import { waitFor } from "./async.ts";
import { EventProtocol } from "./event_protocol.ts";
import { type Client, createClient } from "./rpc/client.ts";
import { compare, zeroClock } from "./vector_clock.ts";

function validator(lines: string[] = []) {
  const config = loadConfig({ ORDER_CACHE_TTL_MS: "1000", CHECKOUT_TIMEOUT_MS: "900", RPC_TIMEOUT_MS: "500" });
  const log = createLogger("test", { write: (line) => lines.push(line) });
  const orchestrator = createClient(orderEventsService, {
    baseUrl: config.urls.orchestrator,
    peer: "orchestrator",
    token: "x".repeat(16),
    timeoutMs: config.rpcTimeoutMs,
  });
  const pass = { check: () => ({ ok: true }) };
  return new EventProtocol<string>("fraud_detection", {
    config,
    log,
    orchestrator,
    events: { d: pass, e: pass },
    peers: { suggestions: () => Promise.resolve() },
  });
}

Deno.test("events tick the process's slot on top of their causal basis", async () => {
  const v = validator();
  try {
    v.init("o1", { data: "data" });
    const b = { "transaction_verification.user": 1 };
    const c = { "transaction_verification.items": 2 };
    const slot = v.receive({ orderId: "o1", event: "b", clock: b })!;
    const d = await v.run(slot, { name: "d", check: () => ({ ok: true }) });
    v.receive({ orderId: "o1", event: "c", clock: c });
    const e = await v.run(slot, { name: "e", check: () => ({ ok: true }) });
    assert.equal(d!.clock.fraud_detection, 1);
    assert.equal(compare(d!.clock, e!.clock), "before");
    assert.equal(compare(c, e!.clock), "before");
    assert.equal(
      v.receive({ orderId: "o1", event: "b", clock: b }),
      undefined,
      "a repeated delivery is ignored",
    );
    assert.deepEqual(slot.events.map((event) => event.name), ["d", "e"]);
    assert.throws(
      () => v.receive({ orderId: "o1", event: "f", clock: {} }),
      /event: fraud_detection advances on "b" or "c", not "f"/,
    );
  } finally {
    v.close();
  }
});

Deno.test("ClearOrder checks the local clock against the final one, logs a violation, and drops the order", async () => {
  const lines: string[] = [];
  const v = validator(lines);
  try {
    v.init("ok", { data: "data" });
    await v.run(v.slot("ok"), { name: "d", check: () => ({ ok: true }) });
    const cleared = v.clear("ok", { fraud_detection: 1, suggestions: 1 });
    assert.equal(cleared.consistent, true);
    assert.throws(() => v.slot("ok"), (error: RpcError) => error.code === "not_found");
    assert.deepEqual(v.clear("ok", {}), cleared, "a retried ClearOrder gets the same answer");

    v.init("bad", { data: "data" });
    await v.run(v.slot("bad"), { name: "d", check: () => ({ ok: true }) });
    assert.equal(v.clear("bad", {}).consistent, false);
    assert.ok(lines.some((line) => line.includes("local clock is not <= the final clock") && line.includes('"bad"')));
  } finally {
    v.close();
  }
});

Deno.test("a cancelled order runs nothing more; an unfinished one is dropped after its TTL", async () => {
  const v = validator();
  try {
    // Every slot made below expires at least TTL after this.
    const before = Date.now();
    v.init("c", { data: "data" });
    v.cancel("c");
    assert.equal(await v.run(v.slot("c"), { name: "d", check: () => ({ ok: true }) }), undefined);
    const first = v.slot("c");
    v.init("c", { data: "again" });
    assert.ok(first.cancelled, "a re-initialised order cancels its stale predecessor");
    assert.equal(v.slot("c").data, "again");
    v.init("forgotten", { data: "data" });
    v.sweep(before + 999);
    assert.equal(v.size, 2);
    v.sweep(Date.now() + 1001);
    assert.equal(v.size, 0, "no service leaks orders the orchestrator never finished");
  } finally {
    v.close();
  }
});

/**
 * The three validators on `graph`, in memory: every event passes (but
 * `failing`), an Advance is a call of the addressed protocol's `advance`,
 * and the orchestrator only collects the reports. The order is started as
 * the orchestrator starts it: an Advance of the start to each root's owner.
 */
function validatorsOn(graph: EventGraph, options: { failing?: string; unreachable?: ValidatorName } = {}) {
  const config = loadConfig({ ORDER_CACHE_TTL_MS: "10000" });
  const log = createLogger("test", { write: () => {} });
  const reports: ReportOutcomeRequest[] = [];
  const orchestrator = {
    ReportOutcome: (request: ReportOutcomeRequest) => Promise.resolve(void reports.push(request)),
  } as unknown as Client<typeof orderEventsService>;
  const protocols = new Map<ValidatorName, EventProtocol<string>>();
  const peers = Object.fromEntries(VALIDATORS.map((service) => [service, (request: AdvanceRequest) => {
    if (service === options.unreachable) return Promise.reject(new Error("connection refused"));
    protocols.get(service)!.advance(request);
    return Promise.resolve();
  }]));
  for (const service of VALIDATORS) {
    const events = Object.fromEntries(
      graph.eventsOf(service).map((name) => [name, {
        check: () =>
          name === options.failing
            ? { ok: false, rejections: [rejection("other", `event ${name} failed`, { field: "user.name" })] }
            : { ok: true },
      }]),
    );
    protocols.set(service, new EventProtocol(service, { config, log, orchestrator, events, peers, graph }));
  }
  return {
    reports,
    async place(orderId: string): Promise<ReportOutcomeRequest> {
      for (const protocol of protocols.values()) protocol.init(orderId, { data: "the order" });
      for (const owner of graph.startsAt) {
        protocols.get(owner)!.advance({ orderId, event: START_EVENT, clock: zeroClock(CLOCK_PROCESSES) });
      }
      await waitFor(() => reports.length > 0, 5000, { step: 5 });
      return reports[0];
    },
    slots: (orderId: string) => [...protocols.values()].map((protocol) => protocol.slot(orderId)),
  };
}

// Two edits of one place each: e and f swap (f now follows d, e follows c and f), and a new last event g.
const REORDERED = eventGraph({
  ...VALIDATION_EVENTS,
  e: { ...VALIDATION_EVENTS.e, after: ["c", "f"] },
  f: { ...VALIDATION_EVENTS.f, after: ["d"] },
});
const EXTENDED = eventGraph({
  ...VALIDATION_EVENTS,
  g: { service: "suggestions", process: "suggestions", what: "gift note", after: ["f"] },
});

Deno.test("a changed event graph is one edit: the validators wait, forward and report as it says, and the clocks show its order", async () => {
  assert.deepEqual(REORDERED.advancesOn("suggestions"), ["d"], "suggestions now waits for d's clock");
  assert.deepEqual(REORDERED.advancesOn("fraud_detection"), ["b", "c", "f"]);
  assert.equal(REORDERED.order("e", "f"), "after");
  assert.equal(REORDERED.order("c", "f"), "concurrent");
  assert.equal(EXTENDED.last, "g");
  for (const graph of [VALIDATION_GRAPH, REORDERED, EXTENDED]) {
    const validators = validatorsOn(graph);
    const outcome = await validators.place("o1");
    const events = validators.slots("o1").flatMap((slot) => slot.events);
    assert.equal(outcome.outcome, "approved");
    assert.equal(outcome.event, graph.last, "the last event's owner reports the approval");
    assert.deepEqual(events.map((event) => event.name).sort(), [...graph.names].sort());
    assert.equal(events.length, graph.names.length, "each event ran once");
    assert.deepEqual(clockFindings(events, graph), [], `the clocks of ${graph.names.join("")}`);
    assert.deepEqual(validators.reports.length, 1);
  }
});

Deno.test("on a changed graph a failed event stops its causal future, wherever the graph put it", async () => {
  const validators = validatorsOn(REORDERED, { failing: "d" });
  const outcome = await validators.place("o1");
  assert.deepEqual([outcome.outcome, outcome.event], ["rejected", "d"]);
  assert.deepEqual(outcome.rejections, [rejection("other", "event d failed", { field: "user.name" })]);
  assert.deepEqual(outcome.reasons, ["event d failed"], "the reasons are the rejections' messages");
  const started = validators.slots("o1").flatMap((slot) => [...slot.started]);
  for (const later of ["e", "f"]) assert.ok(!started.includes(later), `${later} follows d, so it never starts`);
});

Deno.test("a peer that cannot be reached is reported as an error coded service.unavailable", async () => {
  const validators = validatorsOn(VALIDATION_GRAPH, { unreachable: "fraud_detection" });
  const outcome = await validators.place("o1");
  assert.equal(outcome.outcome, "error");
  assert.deepEqual(outcome.rejections.map((r) => r.code), ["service.unavailable"]);
  assert.match(outcome.reasons[0], /^fraud_detection could not be reached: /);
  assert.deepEqual(outcome.reasons, outcome.rejections.map((r) => r.message));
});

Deno.test("a validator is not built without a check for each of its events or a way to reach its next peers", () => {
  const config = loadConfig({});
  const log = createLogger("test", { write: () => {} });
  const orchestrator = {} as Client<typeof orderEventsService>;
  const pass = { check: () => ({ ok: true }) };
  assert.throws(
    () => new EventProtocol("suggestions", { config, log, orchestrator, events: {}, graph: EXTENDED }),
    /suggestions: no check for event f, g/,
  );
  assert.throws(
    () => new EventProtocol("suggestions", { config, log, orchestrator, events: { f: pass, x: pass } }),
    /event x is not its own/,
  );
  assert.throws(
    () => new EventProtocol("suggestions", { config, log, orchestrator, events: { f: pass }, graph: REORDERED }),
    /no way to reach fraud_detection/,
  );
});
