/// <reference lib="dom" />
/**
 * The course's own checkout page, unchanged, against the real system: a
 * minimal page of its own, served from another loopback port (so another
 * origin), posts exactly the seeds' JSON with books named as a person types
 * them, straight to the orchestrator's `POST /checkout`. With that origin in
 * `CORS_ORIGINS` the browser lets it, and the page shows "Order Approved"
 * with suggestions. The shop's order page then says which book each name was
 * taken for, and stops following an order the shop no longer has.
 */
import assert from "node:assert/strict";
import { launchBrowser, openPage, screenshot } from "./support/browser.ts";
import { startCluster } from "./support/cluster.ts";
import { cardNumber, futureExpiry } from "./support/orders.ts";

/** The seeds' items, as the course's page has them. */
const ITEMS = [{ name: "Harry Potter", quantity: 1 }, { name: "Lord of the Ring", quantity: 2 }];

/** The seeds' checkout page in miniature: a form, and a script that posts its fields as the seeds' JSON. */
function checkoutPage(orchestrator: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Bookstore checkout</title></head>
<body>
<h1>Checkout</h1>
<form id="checkout">
  <label>Name <input id="name"></label>
  <label>Contact <input id="contact"></label>
  <label>Card number <input id="cardNumber"></label>
  <label>Expiration date <input id="expirationDate" placeholder="MM/YY"></label>
  <label>CVV <input id="cvv"></label>
  <label>Comment <textarea id="userComment"></textarea></label>
  <label>Street <input id="street"></label>
  <label>City <input id="city"></label>
  <label>State <input id="state"></label>
  <label>Zip <input id="zip"></label>
  <label>Country <input id="country"></label>
  <label>Shipping <select id="shippingMethod"><option>Standard</option><option>Express</option><option>Next-Day</option></select></label>
  <label><input type="checkbox" id="giftWrapping"> Gift wrapping</label>
  <label><input type="checkbox" id="termsAccepted"> I accept the terms and conditions</label>
  <button type="submit">Submit order</button>
</form>
<div id="result"></div>
<script>
const ORCHESTRATOR = ${JSON.stringify(orchestrator)};
const items = ${JSON.stringify(ITEMS)};
const value = (id) => document.getElementById(id).value;
const checked = (id) => document.getElementById(id).checked;
const show = (tag, text, parent) => {
  const element = document.createElement(tag);
  element.textContent = text;
  parent.append(element);
  return element;
};
document.getElementById("checkout").addEventListener("submit", async (event) => {
  event.preventDefault();
  const order = {
    user: { name: value("name"), contact: value("contact") },
    creditCard: { number: value("cardNumber"), expirationDate: value("expirationDate"), cvv: value("cvv") },
    userComment: value("userComment"),
    items,
    billingAddress: { street: value("street"), city: value("city"), state: value("state"), zip: value("zip"), country: value("country") },
    shippingMethod: value("shippingMethod"),
    giftWrapping: checked("giftWrapping"),
    termsAccepted: checked("termsAccepted"),
  };
  const result = document.getElementById("result");
  result.replaceChildren();
  try {
    const response = await fetch(ORCHESTRATOR + "/checkout", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(order),
    });
    const answer = await response.json();
    show("h2", answer.status, result).id = "status";
    show("p", answer.orderId, result).id = "order-id";
    const suggestions = show("ul", "", result);
    suggestions.id = "suggestions";
    for (const book of answer.suggestedBooks ?? []) show("li", book.title, suggestions);
    const reasons = show("ul", "", result);
    reasons.id = "reasons";
    for (const reason of answer.reasons ?? []) show("li", reason, reasons);
  } catch (error) {
    show("p", "Error: " + error.message, result).id = "error";
  }
});
</script>
</body>
</html>`;
}

Deno.test("the course's own checkout page on another origin places the seeds' order, books named as typed", async (t) => {
  // The page's own server, on a loopback port of its own: its origin is the one CORS_ORIGINS admits.
  let orchestrator = "";
  await using pageServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(checkoutPage(orchestrator), { headers: { "content-type": "text/html; charset=utf-8" } }),
  );
  const pageOrigin = `http://127.0.0.1:${pageServer.addr.port}`;
  // No executors: approved orders stay queued, so the order page keeps following its order.
  await using cluster = await startCluster({
    web: true,
    only: ["order_queue", "transaction_verification", "fraud_detection", "suggestions", "orchestrator", "web"],
    env: { CORS_ORIGINS: pageOrigin },
  });
  orchestrator = cluster.orchestrator;
  const shop = cluster.url("web").replace("127.0.0.1", "localhost");
  const browser = await launchBrowser();
  const problems: string[] = [];
  let orderId = "";
  try {
    await t.step("the page posts the seeds' JSON and shows Order Approved with suggestions", async () => {
      const page = await openPage(browser, { problems });
      await page.goto(`${pageOrigin}/`);
      const fields: Record<string, string> = {
        name: "Ada Lovelace",
        contact: `ada.${crypto.randomUUID().slice(0, 8)}@example.com`,
        cardNumber: cardNumber(),
        expirationDate: futureExpiry(),
        cvv: "123",
        userComment: "Please deliver after 5pm",
        street: "Narva mnt 18",
        city: "Tartu",
        state: "Tartumaa",
        zip: "51009",
        country: "EE",
      };
      for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
      await page.check("#termsAccepted");
      const posted = page.waitForRequest((request) => request.url() === `${orchestrator}/checkout`);
      const answered = page.waitForResponse((response) => response.url() === `${orchestrator}/checkout`);
      // Awaited once the page shows its answer; a refused call never makes them, and that must not go unhandled.
      for (const pending of [posted, answered]) pending.catch(() => {});
      await page.click("button[type=submit]");
      await page.locator("#status, #error").first().waitFor();
      // A browser that refuses the cross-origin call shows only "Failed to fetch".
      assert.deepEqual(await page.locator("#error").allInnerTexts(), [], "the browser let the page call");

      const body = (await posted).postDataJSON();
      assert.deepEqual(Object.keys(body).sort(), [
        "billingAddress",
        "creditCard",
        "giftWrapping",
        "items",
        "shippingMethod",
        "termsAccepted",
        "user",
        "userComment",
      ]);
      assert.deepEqual(Object.keys(body.user).sort(), ["contact", "name"]);
      assert.deepEqual(Object.keys(body.creditCard).sort(), ["cvv", "expirationDate", "number"]);
      assert.deepEqual(Object.keys(body.billingAddress).sort(), ["city", "country", "state", "street", "zip"]);
      assert.deepEqual(body.items, ITEMS);
      const response = await answered;
      assert.equal(response.headers()["access-control-allow-origin"], pageOrigin);
      assert.equal(response.headers()["access-control-allow-credentials"], undefined);

      const reasons = await page.locator("#reasons li").allInnerTexts();
      assert.equal(await page.locator("#status").innerText(), "Order Approved", `reasons: ${reasons.join("; ")}`);
      const suggested = await page.locator("#suggestions li").allInnerTexts();
      assert.ok(suggested.length > 0, "suggestions are shown");
      for (const title of suggested) {
        assert.ok(
          !["Harry Potter and the Philosopher's Stone", "The Fellowship of the Ring"].includes(title),
          `${title} is in the cart`,
        );
      }
      orderId = await page.locator("#order-id").innerText();
      assert.match(orderId, /^[0-9a-f-]{36}$/);
      await screenshot(page, "seeds-page-approved");
      await page.close();
    });

    await t.step("the shop's order page shows which book each name was taken for", async () => {
      assert.ok(orderId, "an order was placed");
      const page = await openPage(browser, { problems });
      await page.goto(`${shop}/orders/${orderId}`);
      assert.deepEqual(await page.locator(".order-books li").allInnerTexts(), [
        "1 × Harry Potter and the Philosopher's Stone (ordered as “Harry Potter”)",
        "2 × The Fellowship of the Ring (ordered as “Lord of the Ring”)",
      ]);
      await screenshot(page, "order-named-books");
      await page.close();
    });

    await t.step("the order page stops following an order the shop no longer has, and says so", async () => {
      assert.ok(orderId, "an order was placed");
      const page = await openPage(browser, { problems });
      // The order is queued (no executor takes it); its stream then says the shop no longer has it.
      let streams = 0;
      await page.route(`**/orders/${orderId}/events`, (route) => {
        streams += 1;
        return route.fulfill({
          status: 200,
          headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
          body: `retry: 50\nevent: missing\ndata: ${JSON.stringify({ orderId })}\n\n`,
        });
      });
      await page.goto(`${shop}/orders/${orderId}`);
      assert.equal(await page.locator("[data-status]").getAttribute("data-status"), "queued");
      await page.locator(".live-note", { hasText: "Order not found" }).waitFor({ timeout: 15_000 });
      await screenshot(page, "order-not-found");
      assert.equal(streams, 1, "the stream was not opened again");
      await page.close();
    });
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, []);
});
