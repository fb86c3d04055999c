/// <reference lib="dom" />
/**
 * The checkout form's `Idempotency-Key` in a real browser against the real
 * system: the orchestrator places an order but its answer never reaches the
 * browser (the connection drops), the shopper types the card again, spaced
 * this time, and submits once more. The retry must carry the same key and
 * get the same order: one order placed, its stock taken once.
 */
import assert from "node:assert/strict";
import type { Route } from "playwright-core";
import { addToCart, fillCheckout, launchBrowser, openPage, screenshot } from "./support/browser.ts";
import { startCluster } from "./support/cluster.ts";
import { cardNumber } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

const BOOK = "dune";

Deno.test("checkout form: a retry after an unconfirmed answer, card retyped with spaces, places one order", async () => {
  await using cluster = await startCluster({ web: true });
  // The orchestrator admits the shop's origin, which the browser reaches as localhost.
  const base = cluster.url("web").replace("127.0.0.1", "localhost");
  const stockBefore = (await cluster.get(`/books/${BOOK}`)).body.stock;
  const browser = await launchBrowser();
  try {
    const problems: string[] = [];
    const page = await openPage(browser, { problems });
    const keys: string[] = [];
    const orderIds: string[] = [];
    await page.route("**/PlaceOrder", async (route: Route) => {
      const request = route.request();
      if (request.method() !== "POST") return await route.continue();
      keys.push(request.headers()["idempotency-key"]);
      const response = await route.fetch();
      orderIds.push((await response.json()).orderId);
      // The first answer is lost on the way back: the order is placed, the browser never learns it.
      if (keys.length === 1) return await route.abort("connectionreset");
      await route.fulfill({ response });
    });

    await addToCart(page, { base, bookId: BOOK });
    await page.goto(`${base}/checkout`);
    await page.locator('[name="user.name"]').waitFor();
    const card = cardNumber();
    await fillCheckout(page, { "creditCard.number": card });

    await page.click("button[type=submit]");
    await page.locator(".result h2", { hasText: "The order is not confirmed yet" }).waitFor({ timeout: 15_000 });
    assert.equal(await page.inputValue('[name="creditCard.number"]'), "", "the card was cleared");
    await screenshot(page, "checkout-unconfirmed");

    // Typed again as the card shows it, in groups of four.
    await page.fill('[name="creditCard.number"]', card.replace(/(\d{4})(?=\d)/g, "$1 "));
    await page.fill('[name="creditCard.cvv"]', "123");
    await page.click("button[type=submit]");
    await page.locator(".result.approved").waitFor({ timeout: 15_000 });

    assert.equal(keys.length, 2, "the form was sent twice");
    assert.equal(keys[1], keys[0], "the retry carries the first attempt's key");
    assert.equal(orderIds[1], orderIds[0], "the retry is answered with the first order");
    assert.match(await page.locator(".result.approved").innerText(), new RegExp(orderIds[0]));

    const executed = await eventually(async () => {
      const view = (await cluster.get(`/orders/${orderIds[0]}`)).body;
      return view.status === "executed" && view;
    }, { message: "the order to be executed" });
    assert.equal(executed.orderId, orderIds[0]);
    // This cluster is new: every order it ever queued is counted here.
    const queue = await cluster.queue().GetQueueStatus({});
    assert.deepEqual({ depth: queue.depth, leased: queue.leased, executed: queue.executed }, {
      depth: 0,
      leased: 0,
      executed: 1,
    }, "one order was queued and executed");
    assert.equal((await cluster.get(`/books/${BOOK}`)).body.stock, stockBefore - 1, "the stock was taken once");
    // The dropped answer is the one error the page may log.
    assert.deepEqual(problems.filter((problem) => !/Failed to load resource|ERR_CONNECTION_RESET/.test(problem)), []);
  } finally {
    await browser.close();
  }
});
