/**
 * The shop's catalog page in a real browser (headless Chromium), served by
 * the web app from the running orchestrator and queue: rendered on the
 * server, hydrated as an island, searchable with and without JavaScript.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./support/browser.ts";
import { startCluster } from "./support/cluster.ts";
import { ROOT } from "./support/buf.ts";

const SCREENSHOTS = new URL("tests/screenshots/", ROOT);

Deno.test("the catalog page lists books with stock and filters them as you type", async (t) => {
  await using cluster = await startCluster({ only: ["order_queue", "orchestrator", "web"], web: true });
  const browser = await launchBrowser();
  try {
    await t.step("server-rendered, then hydrated: typing filters without a round trip", async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(cluster.url("web"));
      assert.equal(await page.title(), "The Bookstore");
      const count = await page.locator(".book").count();
      assert.ok(count >= 150, `${count} books shown`);
      await page.screenshot({ path: new URL("catalog.png", SCREENSHOTS).pathname });

      await page.locator("input[name=q]").pressSequentially("herbert");
      await page.locator(".count", { hasText: /^2 books$/ }).waitFor();
      const titles = await page.locator(".book h2").allInnerTexts();
      assert.ok(titles.includes("Dune"), JSON.stringify(titles));
      assert.equal(new URL(page.url()).search, "", "no navigation happened");
      assert.match(await page.locator('[data-book-id="dune"] .price').innerText(), /^\$\d+\.\d{2} · \d+ in stock$/);
      await page.screenshot({ path: new URL("search.png", SCREENSHOTS).pathname });
      assert.deepEqual(errors, []);
    });

    await t.step("without JavaScript the search form still works", async () => {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto(cluster.url("web"));
      await page.fill("input[name=q]", "le guin");
      await page.click("button[type=submit]");
      await page.waitForURL(/\?q=le\+guin/);
      const authors = await page.locator(".book .author").allInnerTexts();
      assert.ok(authors.length > 0 && authors.every((a) => a.startsWith("Ursula K. Le Guin")), JSON.stringify(authors));
      await context.close();
    });

    await t.step("with the orchestrator down the page says so", async () => {
      await cluster.supervisor.stop("orchestrator");
      const page = await browser.newPage();
      const response = await page.goto(cluster.url("web"));
      assert.equal(response?.status(), 503);
      assert.match(await page.locator(".error").innerText(), /catalog is unavailable/);
    });
  } finally {
    await browser.close();
  }
});
