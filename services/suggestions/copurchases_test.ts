/** Co-purchase counts: each order once, in group commits that fit every backend's limits. */
import assert from "node:assert/strict";
import { loadCatalog } from "@bookstore/lib/catalog";
import { limitedKv } from "@bookstore/lib/store/testing";
import { CoPurchases } from "./copurchases.ts";

const bookIds = loadCatalog().books.slice(0, 20).map((book) => book.bookId);

Deno.test("orders recorded at once are counted in a few group commits, each once", async () => {
  using kv = await Deno.openKv(":memory:");
  const limited = limitedKv(kv);
  const coPurchases = new CoPurchases(limited.kv, { retentionMs: 3_600_000 });
  const orders = Array.from({ length: 100 }, (_, i) => ({ orderId: `o${i}`, bookIds: ["dune", "foundation"] }));
  // Every order twice, the second a retried checkout.
  const counted = await Promise.all([...orders, ...orders].map((order) => coPurchases.record(order)));
  assert.equal(counted.filter(Boolean).length, 100, "each order counted once");
  assert.ok(limited.commits.length < 20, `${limited.commits.length} commits for 200 calls`);
  assert.deepEqual(await coPurchases.with(["dune"]), new Map([["foundation", 100]]));
  assert.deepEqual(await coPurchases.with(["foundation"]), new Map([["dune", 100]]));
  assert.equal(await coPurchases.record(orders[0]), false, "a later repeat counts nothing");
  const markers = limited.commits.flatMap((commit) => commit.writes).filter(({ key }) => key[0] === "copurchase_order");
  assert.ok(markers.every(({ expireIn }) => expireIn === 3_600_000), "orders remembered for the retention period");
});

Deno.test("the same order recorded twice at once, while a commit is under way, counts once", async () => {
  using kv = await Deno.openKv(":memory:");
  const coPurchases = new CoPurchases(kv, { retentionMs: 3_600_000 });
  const order = { orderId: "o2", bookIds: ["dune", "foundation"] };
  // o1 takes the first commit; both calls for o2 wait together for the next.
  const counted = await Promise.all([
    coPurchases.record({ orderId: "o1", bookIds: ["emma"] }),
    coPurchases.record(order),
    coPurchases.record(order),
  ]);
  assert.deepEqual(counted, [true, true, false]);
  assert.deepEqual(await coPurchases.with(["dune"]), new Map([["foundation", 1]]));
});

Deno.test("an order too large for one commit is counted in several, once", async () => {
  using kv = await Deno.openKv(":memory:");
  const limited = limitedKv(kv);
  const coPurchases = new CoPurchases(limited.kv, { retentionMs: 3_600_000 });
  const [big, small] = await Promise.all([
    coPurchases.record({ orderId: "big", bookIds }),
    coPurchases.record({ orderId: "small", bookIds: bookIds.slice(0, 2) }),
  ]);
  assert.deepEqual([big, small], [true, true]);
  assert.ok(limited.commits.length > 2, "20 × 19 pairs do not fit in one commit");
  assert.equal(await coPurchases.record({ orderId: "big", bookIds }), false, "a repeat");
  const counts = await coPurchases.with([bookIds[0]]);
  assert.equal(counts.size, 19);
  assert.equal(counts.get(bookIds[1]), 2, "bought together in both orders");
  assert.ok([...counts].every(([id, count]) => count === (id === bookIds[1] ? 2 : 1)));
});

Deno.test("a group whose commit fails fails its callers, and the next group is counted", async () => {
  using kv = await Deno.openKv(":memory:");
  let failNext = true;
  const failing = new Proxy(kv, {
    get(target, name) {
      if (name === "atomic") {
        return () => {
          const atomic = target.atomic();
          if (!failNext) return atomic;
          failNext = false;
          return Object.assign(atomic, { commit: () => Promise.reject(new Error("the store is out of reach")) });
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const coPurchases = new CoPurchases(failing, { retentionMs: 3_600_000 });
  await assert.rejects(() => coPurchases.record({ orderId: "o1", bookIds: ["dune", "foundation"] }), /out of reach/);
  assert.equal(await coPurchases.record({ orderId: "o1", bookIds: ["dune", "foundation"] }), true, "the retry counts");
  assert.deepEqual(await coPurchases.with(["dune"]), new Map([["foundation", 1]]));
});
