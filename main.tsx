/**
 * The web app, in Fresh's layout: pages in `routes/` rendered on the server
 * with Preact, interactive parts in `islands/` hydrated in the browser from a
 * bundle built in memory at start-up (`web/`), static files in `static/`.
 * Fresh itself cannot be installed here (no JSR), so Hono serves it.
 *
 * @module
 */
import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { renderToString } from "preact-render-to-string";
import { loadConfig } from "@bookstore/lib/config";
import { type Book, bookSchema } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { serve } from "@bookstore/lib/service";
import App from "./routes/_app.tsx";
import { bundleClient } from "./web/bundle.ts";
import CatalogPage from "./routes/index.tsx";

const config = loadConfig();
const log = createLogger("web", { level: config.logLevel });
const app = new Hono();

const clientBundle = await bundleClient();

async function fetchBooks(): Promise<Book[]> {
  const url = new URL("/books", config.urls.orchestrator);
  const response = await fetch(url, { signal: AbortSignal.timeout(config.rpcTimeoutMs * 2) });
  if (!response.ok) throw new Error(`the orchestrator answered ${response.status}`);
  return bookSchema.array().parse(await response.json());
}

app.get("/healthz", (c) => c.json({ status: "ok", service: "web", pid: Deno.pid }));
app.use("/static/*", serveStatic({ root: "./" }));
app.get("/_islands.js", (c) => c.body(clientBundle, 200, { "content-type": "text/javascript; charset=utf-8" }));
app.get("/", async (c) => {
  const query = c.req.query("q") ?? "";
  let books: Book[] = [];
  let error: string | undefined;
  try {
    books = await fetchBooks();
  } catch (cause) {
    log.warn("catalog unavailable", { error: cause });
    error = "The catalog is unavailable right now. Please try again in a moment.";
  }
  const page = (
    <App title="The Bookstore">
      <CatalogPage books={books} query={query} error={error} />
    </App>
  );
  return c.html(`<!doctype html>${renderToString(page)}`, error ? 503 : 200);
});

serve(app, { port: config.web.port, hostname: config.host, log });
