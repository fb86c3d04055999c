/**
 * The checkout end to end, against every service running as its own process:
 * approval with suggestions and causally ordered events, rejections with
 * reasons people understand, fraud, idempotency, bad input, the catalog and
 * the order's life until it is executed.
 */
import assert from "node:assert/strict";
import { EVENT_NAMES, type Rejection } from "@bookstore/lib/contracts";
import type { VectorClock } from "@bookstore/lib/vector_clock";
import { startCluster } from "./support/cluster.ts";
import { clockFindings } from "./support/event_graph.ts";
import { cardNumber, REJECTIONS, validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

/** Every file of a data directory as latin1 text (KV stores ASCII strings as bytes). */
async function readDataFiles(dir: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) {
      texts.set(entry.name, new TextDecoder("latin1").decode(await Deno.readFile(`${dir}/${entry.name}`)));
    }
  }
  return texts;
}

interface Event {
  name: string;
  service: string;
  clock: VectorClock;
  ok: boolean;
}

Deno.test("checkout", async (t) => {
  await using cluster = await startCluster();
  const checkout = (order: unknown, headers?: Record<string, string>) => cluster.post("/checkout", order, headers);

  await t.step("a valid order is approved with suggestions not in the cart", async () => {
    const order = validOrder({ items: [{ name: "Dune", quantity: 1 }, { bookId: "foundation", quantity: 2 }] });
    const { status, body } = await checkout(order);
    assert.equal(status, 200);
    assert.equal(body.status, "Order Approved");
    assert.deepEqual(body.reasons, []);
    assert.match(body.orderId, /^[0-9a-f-]{36}$/);
    assert.ok(body.suggestedBooks.length > 0);
    for (const book of body.suggestedBooks) {
      assert.ok(!["dune", "foundation"].includes(book.bookId), `${book.bookId} is in the cart`);
      assert.ok(book.title && book.author);
    }
  });

  await t.step("the order's events a..f carry vector clocks that respect the partial order", async () => {
    const { body: placed } = await checkout(validOrder());
    const { status, body } = await cluster.get(`/orders/${placed.orderId}`);
    assert.equal(status, 200);
    const recorded: Event[] = body.events;
    const events = new Map(recorded.map((e) => [e.name, e]));
    assert.deepEqual([...events.keys()].sort(), [...EVENT_NAMES]);
    assert.ok(recorded.every((e) => e.ok));
    // All fifteen pairs, as the event graph has them: the listed relations, and every other pair concurrent.
    assert.deepEqual(clockFindings(recorded), []);
    assert.equal(events.get("a")!.service, "transaction_verification");
    assert.equal(events.get("d")!.service, "fraud_detection");
    assert.equal(events.get("f")!.service, "suggestions");
    assert.deepEqual(body.items, [
      { bookId: "dune", title: "Dune", quantity: 1 },
      { bookId: "foundation", title: "Foundation", quantity: 2 },
    ]);
  });

  await t.step("an approved order is executed and its stock taken", async () => {
    // Earlier orders finish first, so that this one alone moves the stock.
    await eventually(async () => {
      const status = await cluster.queue().GetQueueStatus({});
      return status.depth === 0 && status.leased === 0;
    }, { message: "earlier orders to finish" });
    const before = (await cluster.get("/books/dune")).body.stock;
    const { body: placed } = await checkout(validOrder({ items: [{ bookId: "dune", quantity: 3 }] }));
    const view = await eventually(async () => {
      const { body } = await cluster.get(`/orders/${placed.orderId}`);
      return body.status === "executed" && body;
    }, { message: "the order to be executed" });
    assert.ok(view.executorId >= 1 && view.epoch >= 1);
    const after = (await cluster.get("/books/dune")).body.stock;
    assert.equal(after, before - 3, `stock of dune went from ${before} to ${after}: taken once, exactly`);
  });

  for (const { what, overrides, reason, code, field } of REJECTIONS) {
    await t.step(`${what} is rejected with a reason`, async () => {
      const { status, body } = await checkout(validOrder(overrides));
      assert.equal(status, 200);
      assert.equal(body.status, "Order Rejected");
      assert.deepEqual(body.suggestedBooks, []);
      assert.ok(
        body.reasons.some((r: string) => reason.test(r)),
        `reasons ${JSON.stringify(body.reasons)} lack ${reason}`,
      );
      const coded = body.rejections.find((r: Rejection) => reason.test(r.message));
      assert.deepEqual([coded?.code, coded?.field], [code, field], JSON.stringify(body.rejections));
      assert.deepEqual(body.reasons, body.rejections.map((r: Rejection) => r.message));
      const view = await cluster.get(`/orders/${body.orderId}`);
      assert.equal(view.body.status, "rejected");
      assert.deepEqual(view.body.rejections, body.rejections);
    });
  }

  await t.step("a high-risk order is rejected by fraud detection with its reasons", async () => {
    const { body } = await checkout(validOrder({
      user: { name: "xxx", contact: `buyer${crypto.randomUUID().slice(0, 6)}@mailinator.com` },
      items: [{ bookId: "dune", quantity: 40 }],
      shippingMethod: "Next-Day",
    }));
    assert.equal(body.status, "Order Rejected");
    assert.match(body.reasons[0], /fraud risk \d+\/100 is too high/);
    assert.ok(body.reasons.some((r: string) => /disposable e-mail domain/.test(r)));
    assert.equal(body.rejections[0].code, "fraud.risk");
    assert.ok(body.rejections.some((r: Rejection) => r.code === "fraud.disposable_contact"));
    assert.deepEqual(body.reasons, body.rejections.map((r: Rejection) => r.message));
    const view = await cluster.get(`/orders/${body.orderId}`);
    const failed = view.body.events.find((e: Event) => !e.ok);
    assert.equal(failed.service, "fraud_detection");
    assert.ok(!view.body.events.some((e: Event) => e.name === "f"), "no suggestions after a rejection");
  });

  await t.step("the same Idempotency-Key twice gives one order", async () => {
    const key = crypto.randomUUID();
    const order = validOrder();
    const [first, second] = await Promise.all([
      checkout(order, { "Idempotency-Key": key }),
      checkout(order, { "Idempotency-Key": key }),
    ]);
    const third = await checkout(order, { "Idempotency-Key": key });
    assert.equal(first.body.status, "Order Approved");
    assert.deepEqual(second.body, first.body);
    assert.deepEqual(third.body, first.body);
    const other = await checkout(validOrder(), { "Idempotency-Key": key });
    assert.equal(other.status, 400);
    assert.match(other.body.error.message, /Idempotency-Key/);
  });

  await t.step("a body that is not a valid order gets a 4xx naming the field", async () => {
    const notJson = await checkout("{oops");
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error.code, "invalid_argument");
    const wrongType = await checkout(validOrder({ items: [{ bookId: "dune", quantity: "two" }] }));
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.body.error.message, /items\.0\.quantity/);
    const wrongShape = await checkout({ ...validOrder(), creditCard: "4111" });
    assert.match(wrongShape.body.error.message, /creditCard/);
    const badKey = await checkout(validOrder(), { "Idempotency-Key": "has spaces" });
    assert.equal(badKey.status, 400);
  });

  await t.step("PlaceOrder is also a Connect method with the same body", async () => {
    const response = await fetch(`${cluster.orchestrator}/bookstore.v1.CheckoutService/PlaceOrder`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify(validOrder()),
    });
    const body = await response.json();
    assert.equal(response.status, 200);
    assert.equal(body.status, "Order Approved");
    const bad = await fetch(`${cluster.orchestrator}/bookstore.v1.CheckoutService/PlaceOrder`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: "none" }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, "invalid_argument");
  });

  await t.step("the catalog answers with current stock, one book, and 404s", async () => {
    const all = await cluster.get("/books");
    assert.ok(all.body.length >= 150);
    const book = all.body[0];
    assert.deepEqual(Object.keys(book).sort(), ["author", "bookId", "genres", "price", "stock", "title", "year"]);
    const search = await cluster.get("/books?q=herbert");
    assert.ok(search.body.some((b: { bookId: string }) => b.bookId === "dune"));
    assert.equal((await cluster.get("/books/no-such-book")).status, 404);
    assert.equal((await cluster.get("/orders/no-such-order")).status, 404);
  });

  await t.step("CORS admits only the web app's origin", async () => {
    const allowed = `http://localhost:${cluster.ports.web}`;
    const preflight = await fetch(`${cluster.orchestrator}/checkout`, {
      method: "OPTIONS",
      headers: { origin: allowed, "access-control-request-method": "POST" },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.headers.get("access-control-allow-origin"), allowed);
    const foreign = await fetch(`${cluster.orchestrator}/books`, { headers: { origin: "https://evil.example" } });
    await foreign.body?.cancel();
    assert.notEqual(foreign.headers.get("access-control-allow-origin"), "https://evil.example");
  });

  const cards = [cardNumber("4", 16), cardNumber("51", 16), cardNumber("34", 15)];
  await t.step(
    "card numbers and CVVs never reach a log line or a KV file (stops the services)",
    async () => {
      const placed = await Promise.all([
        checkout(validOrder({ creditCard: { number: cards[0], expirationDate: "12/39", cvv: "123" } })),
        checkout(validOrder({
          creditCard: { number: cards[1].replace(/(\d{4})/g, "$1 ").trim(), expirationDate: "01/21", cvv: "456" },
        })),
        checkout(validOrder({
          user: { name: "zz", contact: "fraudster@yopmail.com" },
          items: [{ bookId: "dune", quantity: 45 }],
          creditCard: { number: cards[2], expirationDate: "12/39", cvv: "7391" },
        })),
      ]);
      assert.deepEqual(placed.map((p) => p.body.status), ["Order Approved", "Order Rejected", "Order Rejected"]);
      await eventually(async () => (await cluster.get(`/orders/${placed[0].body.orderId}`)).body.status === "executed");
      // Stopping every process flushes its output and its KV files.
      await cluster.supervisor.stopAll();
      const needles = cards.flatMap((card) => [card, card.replace(/(\d{4})/g, "$1 ").trim(), card.slice(0, 12)]);
      const lines = cluster.allLines();
      assert.ok(lines.length > 50, "the services logged");
      for (const needle of needles) {
        const hit = lines.find((line) => line.includes(needle));
        assert.equal(hit, undefined, `a log line contains card digits: ${hit}`);
      }
      // The CVV as a value of its own: not inside an id, a port or a pid, where four digits turn up by chance.
      const cvv = /(?<![\w.])7391(?!\w)/;
      const leaked = lines.find((line) => /"cvv"\s*:\s*"\d/.test(line) || cvv.test(line));
      assert.equal(leaked, undefined, `a CVV reached the logs: ${leaked}`);
      for (const [file, text] of await readDataFiles(cluster.dataDir)) {
        for (const needle of needles) assert.ok(!text.includes(needle), `${file} contains card digits`);
      }
    },
  );

  await t.step("the KV scan above would see a card number if one were stored", async () => {
    const dir = await Deno.makeTempDir();
    const kv = await Deno.openKv(`${dir}/probe.kv`);
    await kv.set(["probe"], { note: `card ${cards[0]}` });
    kv.close();
    const texts = await readDataFiles(dir);
    await Deno.remove(dir, { recursive: true });
    assert.ok([...texts.values()].some((text) => text.includes(cards[0])));
  });
});
