/**
 * Every service is a module: importing it and building its app starts
 * nothing (no server, no timer), `start()` starts its timers and disposing of
 * it stops them. Timers and servers are counted by wrapping the globals for
 * the duration of each test.
 */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import type { ServiceApp } from "@bookstore/lib/service";

const config = loadConfig({
  BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(),
  BOOKSTORE_FINGERPRINT_KEY: crypto.randomUUID(),
});
const log = createLogger("test", { write: () => {} });
const unreachable = () => Promise.reject(new TypeError("no network in this test"));

/** Counts the intervals alive and the servers started while it is in use. */
function watchSideEffects() {
  const { setInterval, clearInterval } = globalThis;
  const serve = Deno.serve;
  const intervals = new Set<ReturnType<typeof setInterval>>();
  const watched = { intervals, servers: 0 };
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const id = setInterval(...args);
    intervals.add(id);
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = (id?: Parameters<typeof clearInterval>[0]) => {
    intervals.delete(id as ReturnType<typeof setInterval>);
    clearInterval(id);
  };
  Deno.serve = ((...args: Parameters<typeof serve>) => {
    watched.servers += 1;
    return (serve as (...a: unknown[]) => Deno.HttpServer)(...args);
  }) as typeof serve;
  return Object.assign(watched, {
    [Symbol.dispose]() {
      globalThis.setInterval = setInterval;
      globalThis.clearInterval = clearInterval;
      Deno.serve = serve;
      for (const id of intervals) clearInterval(id);
    },
  });
}

const SERVICES = {
  fraud_detection: { timers: true },
  orchestrator: { timers: false },
  order_executor: { timers: true },
  order_queue: { timers: true },
  suggestions: { timers: true },
  transaction_verification: { timers: true },
};

for (const [name, { timers }] of Object.entries(SERVICES)) {
  Deno.test(`${name}: importing and building it starts nothing; start() starts its timers, dispose stops them`, async () => {
    using watched = watchSideEffects();
    const module = await import(`./${name}/app.ts`);
    await using kv = await Deno.openKv(":memory:");
    const service: ServiceApp = await module.createApp({ config, log, kv, fetch: unreachable });
    assert.equal(watched.intervals.size, 0, "building the app started a timer");
    const health = await service.app.request("/healthz");
    assert.equal((await health.json()).status, "ok");
    if (name === "order_executor") {
      // Its start() also calls an election over the network; the election itself is bully_test.ts's.
      service[Symbol.dispose]();
    } else {
      service.start();
      assert.equal(watched.intervals.size > 0, timers, "start() runs the service's timers");
      service[Symbol.dispose]();
    }
    assert.equal(watched.intervals.size, 0, "disposing of the service left a timer running");
    assert.equal(watched.servers, 0, "no server was started");
  });
}
