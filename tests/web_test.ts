/// <reference lib="dom" />
/**
 * The shop in a real browser (headless Chromium) against the real system,
 * every service its own process: browse, search, cart, checkout through the
 * orchestrator's Connect API, the live order page with its space-time
 * diagram, and the cluster page's fault buttons. Every page is scanned for
 * accessibility (axe-core) and must log no console error.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { happenedBefore, isConcurrent, type VectorClock } from "@bookstore/lib/vector_clock";
import {
  addToCart,
  assertAccessible,
  fillCheckout,
  hydrated,
  launchBrowser,
  openPage,
  screenshot,
} from "./support/browser.ts";
import { startCluster } from "./support/cluster.ts";
import { cardNumber } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

/** Console errors and uncaught exceptions of every page opened by `open`. */
const problems: string[] = [];

const open = (browser: Browser, options: { width?: number; height?: number } = {}) =>
  openPage(browser, { problems, ...options });

function checkClocks(clocks: Map<string, VectorClock>) {
  const c = (name: string) => {
    const clock = clocks.get(name);
    assert.ok(clock, `event ${name} is shown`);
    return clock;
  };
  assert.ok(isConcurrent(c("a"), c("b")), "a ‖ b");
  assert.ok(happenedBefore(c("a"), c("c")), "a → c");
  assert.ok(happenedBefore(c("b"), c("d")), "b → d");
  assert.ok(happenedBefore(c("c"), c("e")), "c → e");
  assert.ok(happenedBefore(c("d"), c("e")), "d → e");
  assert.ok(happenedBefore(c("e"), c("f")), "e → f");
}

Deno.test("the shop in a browser: buy, follow the order, watch the cluster fail over", async (t) => {
  await using cluster = await startCluster({ web: true });
  // The orchestrator admits the shop's origin, which the browser reaches as localhost.
  const base = cluster.url("web").replace("127.0.0.1", "localhost");
  const browser = await launchBrowser();
  try {
    await t.step("browse, search, add two books, reload, check out, watch the order execute", async () => {
      const page = await open(browser);
      const response = await page.goto(base);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'; /);
      assert.equal(response?.headers()["x-content-type-options"], "nosniff");
      assert.equal(await page.locator(".book").count(), 24, "one page of books");
      await assertAccessible(page, "catalog");
      await screenshot(page, "catalog");

      await hydrated(page);
      await page.evaluate(() => Object.assign(globalThis, { stayedOnPage: true }));
      await page.locator('input[name="q"]').pressSequentially("herbert");
      await page.locator(".count", { hasText: /^2 books$/ }).waitFor();
      assert.ok((await page.locator(".book h2").allInnerTexts()).includes("Dune"));
      assert.equal(await page.evaluate(() => "stayedOnPage" in globalThis), true, "searching did not navigate");
      assert.equal(new URL(page.url()).search, "?q=herbert", "the address bar follows the search");
      await page.locator('[data-book-id="dune"] button.add').click();
      await page.locator(".cart-link .badge", { hasText: "1" }).waitFor();

      await addToCart(page, { base, bookId: "foundation" });
      await assertAccessible(page, "book");
      await screenshot(page, "book");
      assert.ok(await page.locator(".similar li").count() > 0, "similar books are shown");

      await page.reload();
      await hydrated(page);
      await page.locator(".cart-link .badge", { hasText: "2" }).waitFor();
      await page.click(".cart-link");
      await page.locator(".cart tbody tr").nth(1).waitFor();
      assert.equal(await page.locator(".cart tbody tr").count(), 2);
      await assertAccessible(page, "cart");
      await screenshot(page, "cart");

      await page.click("text=Proceed to checkout");
      await page.waitForURL(/\/checkout$/);
      await page.locator('[name="user.name"]').waitFor();
      const card = cardNumber();
      await fillCheckout(page, { "creditCard.number": card });
      await page.locator(".card-brand", { hasText: "VISA" }).waitFor();
      await assertAccessible(page, "checkout");
      await screenshot(page, "checkout");
      await page.click("button[type=submit]");
      await page.locator(".result.approved").waitFor({ timeout: 15_000 });
      assert.ok(await page.locator(".suggested li").count() > 0, "suggestions are shown");
      assert.equal(await page.locator(".cart-link .badge").innerText(), "0", "the cart is emptied");
      const stored = await page.evaluate(() =>
        JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })
      );
      assert.ok(!stored.includes(card.slice(-8)), "the card is not stored in the browser");
      await screenshot(page, "approved");

      let navigations = 0;
      await page.click("text=Follow your order");
      await page.waitForURL(/\/orders\//);
      page.on("framenavigated", () => navigations++);
      await page.locator('[data-status="executed"]').waitFor({ timeout: 15_000 });
      assert.equal(navigations, 0, "the status updated without a reload");
      assert.match(await page.locator(".execution").innerText(), /Executed by replica \d+ in epoch \d+/);
      const rows = await page.locator("tr[data-event]").evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute("data-event"), JSON.parse(tr.getAttribute("data-clock") ?? "{}")])
      );
      assert.deepEqual(rows.map(([name]) => name).sort(), ["a", "b", "c", "d", "e", "f"]);
      checkClocks(new Map(rows as [string, VectorClock][]));
      assert.equal(await page.locator("svg g.event").count(), 6, "six events in the diagram");
      assert.ok(await page.locator("svg g.message.advance").count() >= 5, "the messages that carried clocks");
      await assertAccessible(page, "order");
      await screenshot(page, "order");
    });

    await t.step(
      "an expired card is caught before submitting; a fraud rejection shows the server's reasons",
      async () => {
        const page = await open(browser);
        await addToCart(page, { base, bookId: "dune" });
        await page.goto(`${base}/cart`);
        await page.fill('input[aria-label="Quantity of Dune"]', "40");
        await page.press('input[aria-label="Quantity of Dune"]', "Tab");
        await page.goto(`${base}/checkout`);
        await page.locator('[name="user.name"]').waitFor();
        let placed = 0;
        page.on("request", (request) => request.url().includes("PlaceOrder") && placed++);
        await fillCheckout(page, { "creditCard.expirationDate": "01/20" });
        await page.locator("#field-creditCard-expirationDate-error", { hasText: /expired/ }).waitFor();
        await page.click("button[type=submit]");
        await page.locator(".form-summary", { hasText: "Please correct 1 field" }).waitFor();
        assert.equal(await page.evaluate(() => document.activeElement?.id), "field-creditCard-expirationDate");
        assert.equal(placed, 0, "nothing was sent");
        await screenshot(page, "checkout-error");

        await fillCheckout(page, {
          "user.name": "xxx",
          "user.contact": `buyer${crypto.randomUUID().slice(0, 6)}@mailinator.com`,
        });
        await page.check('input[value="Next-Day"]');
        await page.click("button[type=submit]");
        await page.locator(".result.rejected").waitFor({ timeout: 15_000 });
        const reasons = await page.locator(".reasons li").allInnerTexts();
        assert.ok(reasons.some((r) => /fraud/i.test(r)), JSON.stringify(reasons));
        assert.ok(reasons.some((r) => /permanent e-mail address/.test(r)), JSON.stringify(reasons));
        assert.equal(await page.inputValue('[name="creditCard.number"]'), "", "the card number is cleared");
        assert.equal(await page.inputValue('[name="creditCard.cvv"]'), "", "the CVV is cleared");
        await assertAccessible(page, "rejected");
        await screenshot(page, "rejected");
        await page.click("text=See where it stopped");
        await page.locator("svg g.event.failed").waitFor();
        await page.locator("svg text.stopped").waitFor();
        await screenshot(page, "order-rejected");
      },
    );

    await t.step("a double submit places one order", async () => {
      const queue = cluster.queue();
      const before = await queue.GetQueueStatus({});
      const page = await open(browser);
      await addToCart(page, { base, bookId: "neuromancer" });
      await page.goto(`${base}/checkout`);
      await page.locator('[name="user.name"]').waitFor();
      const keys: string[] = [];
      page.on("request", (request) => {
        if (request.url().includes("PlaceOrder")) keys.push(request.headers()["idempotency-key"] ?? "");
      });
      await fillCheckout(page);
      await page.dblclick("button[type=submit]");
      await page.locator(".result.approved").waitFor({ timeout: 15_000 });
      assert.ok(keys.length >= 1 && keys.every((key) => key.length > 0 && key === keys[0]), JSON.stringify(keys));
      await eventually(async () => {
        const now = await queue.GetQueueStatus({});
        return now.depth === 0 && now.leased === 0 && now.executed + now.failed > before.executed + before.failed;
      }, { message: "the order to be executed" });
      const after = await queue.GetQueueStatus({});
      assert.equal(after.executed + after.failed, before.executed + before.failed + 1, "exactly one order");
    });

    await t.step("on a phone the checkout works and nothing overflows", async () => {
      const page = await open(browser, { width: 375, height: 800 });
      await addToCart(page, { base, bookId: "the-hobbit" });
      await page.goto(`${base}/checkout`);
      await page.locator('[name="user.name"]').waitFor();
      await fillCheckout(page);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), "no horizontal scrolling");
      await screenshot(page, "phone-checkout");
      await page.click("button[type=submit]");
      await page.locator(".result.approved").waitFor({ timeout: 15_000 });
      await assertAccessible(page, "phone approved");
      await screenshot(page, "phone-approved");
    });

    await t.step("unknown pages and orders say so", async () => {
      // Not through open(): the browser logs the 404 itself, which is the point here.
      const page = await browser.newPage();
      const missing = await page.goto(`${base}/orders/no-such-order`);
      assert.equal(missing?.status(), 404);
      assert.match(await page.locator("main").innerText(), /no order "no-such-order"/);
      await assertAccessible(page, "404");
    });

    await t.step("a form post from another site cannot place an order", async () => {
      const response = await fetch(`${cluster.orchestrator}/checkout`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "{}",
      });
      assert.equal(response.status, 415);
      assert.match((await response.json()).error.message, /Content-Type must be application\/json/);
    });

    await t.step("the cluster page shows the leader; crashing it elects another with a higher epoch", async () => {
      const page = await open(browser);
      await page.goto(`${base}/cluster`);
      await hydrated(page);
      await page.locator('tr[data-role="leader"]').waitFor();
      await page.locator(".live-note", { hasText: "Updating live" }).waitFor();
      await assertAccessible(page, "cluster");
      const leader = Number(await page.locator('tr[data-role="leader"]').getAttribute("data-replica"));
      const epoch = Number(await page.locator("[data-epoch]").getAttribute("data-epoch"));
      assert.equal(leader, 4, "the highest replica leads");
      await screenshot(page, "cluster");
      await page.click(`tr[data-replica="${leader}"] button:has-text("Crash")`);
      const started = performance.now();
      await eventually(async () => {
        const now = await page.locator('tr[data-role="leader"]').getAttribute("data-replica").catch(() => null);
        const newEpoch = await page.locator("[data-epoch]").getAttribute("data-epoch").catch(() => null);
        return now !== null && Number(now) !== leader && Number(newEpoch) > epoch;
      }, { timeoutMs: 2000, intervalMs: 25, message: "a new leader with a higher epoch within 2 s" });
      const took = performance.now() - started;
      assert.equal(await page.locator(`tr[data-replica="${leader}"]`).getAttribute("data-role"), "down");
      assert.ok(await page.locator(".elections li").count() >= 2, "the election is in the timeline");
      await screenshot(page, "cluster-failover");
      console.log(`new leader shown ${Math.round(took)} ms after the crash button`);
    });

    await t.step("with the orchestrator down the shop says so", async () => {
      await cluster.supervisor.stop("orchestrator");
      const page = await browser.newPage();
      const response = await page.goto(base);
      assert.equal(response?.status(), 503);
      assert.match(await page.locator(".error").innerText(), /catalog is unavailable/);
      const orderPage = await page.goto(`${base}/orders/anything`);
      assert.equal(orderPage?.status(), 503);
    });

    await t.step("no page logged a console error", () => {
      assert.deepEqual(problems, []);
    });
  } finally {
    await browser.close();
  }
});
