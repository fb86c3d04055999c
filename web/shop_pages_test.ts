/**
 * The shop's real pages and routes (`fresh.gen.ts`), rendered in memory
 * around a fake shop: what the server adds to them (island props, head
 * elements) and how its event routes are bounded.
 */
import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import manifest from "../fresh.gen.ts";
import { fakeShop } from "../utils/fake_shop.ts";
import type { State } from "../utils/state.ts";
import { createWebApp } from "./server.ts";
import { EventStreams } from "./sse.ts";

function shopApp(state: Partial<State> = {}) {
  const shop = fakeShop(state);
  const app = createWebApp(manifest, {
    state: shop.state,
    bundle: { code: "", hash: "test" },
    log: createLogger("web-test", { level: "error" }),
  });
  return { app, ...shop };
}

/** The islands' props of a page, parsed. */
function islandProps(html: string): Record<string, unknown>[] {
  const block = /<script type="application\/json" id="__island_props">(.*?)<\/script>/s.exec(html);
  assert.ok(block, "the page has its islands' props");
  return JSON.parse(block[1]);
}

/** Every meta description of a page. */
function descriptions(html: string): string[] {
  return [...html.matchAll(/<meta name="description" content="([^"]*)"\s*\/?>/g)].map((m) => m[1]);
}

Deno.test("a search with $ patterns reaches the catalog island unchanged and the page stays whole", async () => {
  const { app } = shopApp();
  for (const query of ["$`", "$'", "$&", "$$", "$1 </script> $`$'"]) {
    const response = await app.request(`/?q=${encodeURIComponent(query)}`);
    assert.equal(response.status, 200);
    const html = await response.text();
    const catalog = islandProps(html).find((props) => "initial" in props) as { initial: { query: string } };
    assert.equal(catalog.initial.query, query);
    assert.equal(html.match(/<!DOCTYPE html>/g)?.length, 1, `the page appears once (q=${query})`);
    assert.equal(html.match(/<\/body>/g)?.length, 1, `one body (q=${query})`);
  }
});

Deno.test("the front page and a book's page have a description of their own; other pages the shop's", async () => {
  const { app, state } = shopApp();
  const front = descriptions(await (await app.request("/")).text());
  assert.equal(front.length, 1, "exactly one description");
  assert.match(front[0], new RegExp(`^Browse ${state.catalog.books.length} books in \\d+ genres`));

  const dune = descriptions(await (await app.request("/books/dune")).text());
  assert.equal(dune.length, 1);
  assert.match(dune[0], /^Dune by Frank Herbert: \S/);

  const cart = descriptions(await (await app.request("/cart")).text());
  assert.equal(cart.length, 1);
  assert.match(cart[0], /^The Bookstore: books with their current stock/);
  assert.notEqual(cart[0], front[0]);
});

Deno.test("the event routes count against the stream caps by client address", async () => {
  const streams = new EventStreams({ perClient: 1, total: 2 });
  const { app } = shopApp({ streams });
  const env = (hostname: string) => ({ remoteAddr: { transport: "tcp", hostname, port: 40000 } });
  const open: Response[] = [];
  try {
    open.push(await app.request("/cluster/events", {}, env("127.0.0.11")));
    assert.equal(open[0].status, 200);
    assert.equal(open[0].headers.get("content-type"), "text/event-stream; charset=utf-8");
    const again = await app.request("/orders/o-1/events", {}, env("127.0.0.11"));
    assert.equal(again.status, 429);
    assert.ok(Number(again.headers.get("retry-after")) >= 1);
    open.push(await app.request("/cluster/events", {}, env("127.0.0.12")));
    assert.equal(open[1].status, 200);
    const full = await app.request("/orders/o-1/events", {}, env("127.0.0.13"));
    assert.equal(full.status, 503);
    assert.ok(Number(full.headers.get("retry-after")) >= 1);
  } finally {
    await Promise.all(open.map((response) => response.body?.cancel()));
  }
});
