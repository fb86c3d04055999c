/**
 * The shop's catalog page in a real browser (headless Chromium), served by
 * the web app from the running orchestrator and queue.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./support/browser.ts";
import { startCluster } from "./support/cluster.ts";
import { ROOT } from "./support/buf.ts";

const SCREENSHOTS = new URL("tests/screenshots/", ROOT);

Deno.test("the catalog page lists books with stock, and search narrows it", async () => {
  await using cluster = await startCluster({ only: ["order_queue", "orchestrator", "web"], web: true });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(cluster.url("web"));
    assert.equal(await page.title(), "The Bookstore");
    const count = await page.locator(".book").count();
    assert.ok(count >= 150, `${count} books shown`);
    assert.match(await page.locator(".count").innerText(), /^\d+ books$/);
    await page.screenshot({ path: new URL("catalog.png", SCREENSHOTS).pathname });

    await page.fill("input[name=q]", "herbert");
    await page.click("button[type=submit]");
    await page.waitForURL(/\?q=herbert/);
    const titles = await page.locator(".book h2").allInnerTexts();
    assert.ok(titles.includes("Dune"), JSON.stringify(titles));
    assert.match(await page.locator('[data-book-id="dune"] .price').innerText(), /^\$\d+\.\d{2} · \d+ in stock$/);
    await page.screenshot({ path: new URL("search.png", SCREENSHOTS).pathname });

    await cluster.supervisor.stop("orchestrator");
    const response = await page.goto(cluster.url("web"));
    assert.equal(response?.status(), 503);
    assert.match(await page.locator(".error").innerText(), /catalog is unavailable/);
  } finally {
    await browser.close();
  }
});
