import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import type { AppProps, FreshContext, Manifest, PageProps } from "./fresh.ts";
import { HttpError, page } from "./fresh.ts";
import { createWebApp, routePattern } from "./server.ts";

function Counter({ start }: { start: number }) {
  return <button type="button">{start}</button>;
}

const manifest: Manifest = {
  routes: {
    "./routes/_app.tsx": {
      default: ({ Component }: AppProps<unknown>) => (
        <html>
          <body>
            <Component />
          </body>
        </html>
      ),
    },
    "./routes/_404.tsx": { default: () => <p>nothing here</p> },
    "./routes/_500.tsx": { default: ({ error }: PageProps<undefined, unknown>) => <p>oops: {String(error)}</p> },
    "./routes/index.tsx": { default: () => <p>static page</p> },
    "./routes/items/[itemId].tsx": {
      handler: {
        GET: (ctx) => {
          if (ctx.params.itemId === "gone") throw new HttpError(404, "no such item");
          if (ctx.params.itemId === "broken") throw new Error("database on fire");
          return page({ id: ctx.params.itemId, start: 3 });
        },
      },
      default: ({ data }: PageProps<{ id: string; start: number }, unknown>) => (
        <section>
          <h1>{data.id}</h1>
          <Counter start={data.start} />
        </section>
      ),
    },
    // Listed after the dynamic route on purpose: the static one must still win.
    "./routes/items/special.tsx": { default: () => <p>the special item page</p> },
  },
  islands: { "./islands/counter.tsx": { default: Counter } },
};

const app = createWebApp(manifest, {
  state: {},
  bundle: { code: "console.log('islands')", hash: "abc123" },
  log: createLogger("web-test", { level: "error" }),
  connectOrigins: ["http://localhost:8081"],
});

Deno.test("file names become route patterns", () => {
  assert.equal(routePattern("./routes/index.tsx"), "/");
  assert.equal(routePattern("./routes/books/[bookId].tsx"), "/books/:bookId");
  assert.equal(routePattern("./routes/orders/[orderId]/events.ts"), "/orders/:orderId/events");
  assert.equal(routePattern("./routes/docs/[...path].tsx"), "/docs/*");
});

Deno.test("a page with an island carries its props and the hashed bundle; one without ships no script", async () => {
  const withIsland = await (await app.request("/items/<x>")).text();
  assert.match(
    withIsland,
    /<div class="island" data-island="counter" data-island-props="0"><button type="button">3<\/button><\/div>/,
  );
  assert.match(withIsland, /<script type="application\/json" id="__island_props">\[\{"start":3\}\]<\/script>/);
  assert.match(withIsland, /<script type="module" src="\/_frsh\/js\/abc123\/client.js"><\/script><\/body>/);
  assert.ok(!withIsland.includes("<x>"), "the parameter is escaped");
  const plain = await (await app.request("/")).text();
  assert.ok(!plain.includes("<script"), plain);
});

Deno.test("a static route wins over a dynamic one beside it", async () => {
  assert.match(await (await app.request("/items/special")).text(), /the special item page/);
  assert.match(await (await app.request("/items/other")).text(), /<h1>other<\/h1>/);
});

Deno.test("the bundle is cached for a year under its hash", async () => {
  const response = await app.request("/_frsh/js/abc123/client.js");
  assert.equal(response.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(await response.text(), "console.log('islands')");
});

Deno.test("every page carries the security headers", async () => {
  const response = await app.request("/");
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /connect-src 'self' http:\/\/localhost:8081;/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
});

Deno.test("errors render _404 and _500; other methods get 405", async () => {
  const missing = await app.request("/items/gone");
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /nothing here/);
  const unknown = await app.request("/no/such/page");
  assert.equal(unknown.status, 404);
  const broken = await app.request("/items/broken");
  assert.equal(broken.status, 500);
  assert.match(await broken.text(), /oops/);
  const post = await app.request("/items/1", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
});

Deno.test("pages are compressed when the browser accepts it", async () => {
  const long = "x".repeat(4000);
  const response = await app.request(`/items/${long}`, { headers: { "accept-encoding": "gzip" } });
  assert.equal(response.headers.get("content-encoding"), "gzip");
  const html = await new Response(response.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  assert.ok(html.includes(long));
});

Deno.test("a folder's _middleware.ts runs before every route below it, outermost first, and may answer itself", async () => {
  const seen: string[] = [];
  const app = createWebApp({
    routes: {
      "./routes/_middleware.ts": {
        handler: async (ctx: FreshContext<unknown>) => {
          seen.push("root");
          const response = await ctx.next();
          response.headers.set("x-root", "1");
          return response;
        },
      },
      "./routes/api/_middleware.ts": {
        handler: (ctx: FreshContext<unknown>) => {
          seen.push("api");
          if (ctx.url.searchParams.has("refuse")) throw new HttpError(403, "refused");
          return ctx.next();
        },
      },
      "./routes/api/items.ts": { handler: { GET: () => Response.json({ items: [] }) } },
      "./routes/index.tsx": { default: () => <p>home</p> },
    },
    islands: {},
  }, { state: {}, bundle: { code: "", hash: "x" }, log: createLogger("web-test", { level: "error" }) });

  const items = await app.request("/api/items");
  assert.deepEqual(await items.json(), { items: [] });
  assert.equal(items.headers.get("x-root"), "1");
  assert.deepEqual(seen, ["root", "api"]);

  seen.length = 0;
  const home = await app.request("/");
  assert.match(await home.text(), /home/);
  assert.deepEqual(seen, ["root"], "the api folder's middleware is not the home page's");

  const refused = await app.request("/api/items?refuse");
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), { error: { code: "permission_denied", message: "refused" } });
});

Deno.test("behind a trusted load balancer a route sees the client it forwarded as ctx.info's address", async () => {
  const app = createWebApp({
    routes: {
      "./routes/whoami.ts": {
        handler: { GET: (ctx: FreshContext<unknown>) => new Response(ctx.info.remoteAddr.hostname) },
      },
    },
    islands: {},
  }, {
    state: {},
    bundle: { code: "", hash: "x" },
    log: createLogger("web-test", { level: "error" }),
    trustedProxies: ["127.0.0.2"],
  });
  const from = async (peer: string) =>
    await (await app.request("/whoami", { headers: { "x-forwarded-for": "127.0.0.21" } }, {
      remoteAddr: { transport: "tcp", hostname: peer, port: 40000 },
    })).text();
  assert.equal(await from("127.0.0.2"), "127.0.0.21");
  assert.equal(await from("127.0.0.3"), "127.0.0.3", "an untrusted peer's header is not believed");
});
