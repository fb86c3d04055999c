/**
 * Headless Chromium (Debian's package) driven by playwright-core, and what
 * the browser tests do on the shop's pages.
 *
 * @module
 */
/// <reference lib="dom" />
import assert from "node:assert/strict";
import axe from "axe-core";
import { type Browser, chromium, type Page } from "playwright-core";
import { ROOT } from "./buf.ts";
import { cardNumber, futureExpiry } from "./orders.ts";

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Launches headless Chromium with the flags this closed network needs. */
export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Where the browser tests write their screenshots (git-ignored; look at them). */
export const SCREENSHOTS = new URL("tests/screenshots/", ROOT);

/** Options for {@linkcode openPage}. */
export interface OpenPageOptions {
  /** Receives every console error and uncaught exception of the page. */
  problems: string[];
  /** Viewport width (default 1280). */
  width?: number;
  /** Viewport height (default 900). */
  height?: number;
}

/** Opens a page that reports its console errors and uncaught exceptions into `options.problems`. */
export async function openPage(browser: Browser, options: OpenPageOptions): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") options.problems.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => options.problems.push(`${page.url()}: ${error.message}`));
  return page;
}

/** Saves a full-page screenshot as `tests/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/** Runs axe-core in the page; fails on serious or critical violations. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, { resultTypes: ["violations"] });
    // deno-lint-ignore no-explicit-any
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const serious = violations.filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(serious, [], `${name}: accessibility violations`);
}

/** Waits until the page's islands are hydrated (`web/client.ts` marks the document). */
export async function hydrated(page: Page): Promise<void> {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

/** Opens book `bookId`'s page on the shop at `base` and adds it to the cart. */
export async function addToCart(page: Page, options: { base: string; bookId: string }): Promise<void> {
  await page.goto(`${options.base}/books/${options.bookId}`);
  await hydrated(page);
  await page.click("button.add");
  await page.locator("button.add", { hasText: "Added" }).waitFor();
}

/** Fills the checkout form with a valid customer of its own; `overrides` by field name. */
export async function fillCheckout(page: Page, overrides: Record<string, string> = {}): Promise<void> {
  const values: Record<string, string> = {
    "user.name": "Ada Lovelace",
    "user.contact": `ada.${crypto.randomUUID().slice(0, 8)}@example.com`,
    "creditCard.number": cardNumber(),
    "creditCard.expirationDate": futureExpiry(),
    "creditCard.cvv": "123",
    "billingAddress.street": "Narva mnt 18",
    "billingAddress.city": "Tartu",
    "billingAddress.state": "Tartumaa",
    "billingAddress.zip": "51009",
    ...overrides,
  };
  for (const [name, value] of Object.entries(values)) await page.fill(`[name="${name}"]`, value);
  await page.selectOption('[name="billingAddress.country"]', overrides["billingAddress.country"] ?? "EE");
  await page.check('[name="termsAccepted"]');
}
