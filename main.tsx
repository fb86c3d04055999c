/**
 * The web app: pages in `routes/` rendered on the server with Preact
 * (Fresh's layout and conventions, on Hono since Fresh itself cannot be
 * installed here), static files from `static/`.
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
import CatalogPage from "./routes/index.tsx";

const config = loadConfig();
const log = createLogger("web", { level: config.logLevel });
const app = new Hono();

async function fetchBooks(query: string): Promise<Book[]> {
  const url = new URL("/books", config.urls.orchestrator);
  if (query) url.searchParams.set("q", query);
  const response = await fetch(url, { signal: AbortSignal.timeout(config.rpcTimeoutMs * 2) });
  if (!response.ok) throw new Error(`the orchestrator answered ${response.status}`);
  return bookSchema.array().parse(await response.json());
}

app.get("/healthz", (c) => c.json({ status: "ok", service: "web", pid: Deno.pid }));
app.use("/static/*", serveStatic({ root: "./" }));
app.get("/", async (c) => {
  const query = c.req.query("q") ?? "";
  let books: Book[] = [];
  let error: string | undefined;
  try {
    books = await fetchBooks(query);
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
