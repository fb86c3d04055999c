/**
 * A tiny HTTP instance to put behind the load balancer in
 * `tests/load_balancer_test.ts`: it says who it is, keeps what it was asked,
 * streams events one at a time, and dies mid-request on demand.
 *
 * Run as `TINY_NAME=a TINY_PORT=10001 deno run --allow-net --allow-env tests/support/tiny_server.ts`:
 * - `GET /healthz`: 200;
 * - `GET /whoami`: its name;
 * - `GET /seen`: every request it was sent but `/healthz`, `/seen` and `/release`, as `METHOD /path` lines;
 * - `GET /events`: a `text/event-stream` that sends `data: 1`, waits for `POST /release`, sends `data: 2` and ends;
 * - `POST /die`: prints `dying` and exits without answering.
 *
 * @module
 */

const name = Deno.env.get("TINY_NAME") ?? "tiny";
const port = Number(Deno.env.get("TINY_PORT"));
const seen: string[] = [];
const waiting = new Set<() => void>();
const encoder = new TextEncoder();

function events(): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("data: 1\n\n"));
      waiting.add(() => {
        controller.enqueue(encoder.encode("data: 2\n\n"));
        controller.close();
      });
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } });
}

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log(`${name} listening on ${port}`) }, (request) => {
  const path = new URL(request.url).pathname;
  if (path === "/healthz") return new Response("ok");
  if (path === "/seen") return new Response(seen.join("\n"));
  if (path === "/release") {
    for (const release of waiting) release();
    waiting.clear();
    return new Response("released");
  }
  seen.push(`${request.method} ${path}`);
  if (path === "/whoami") return new Response(name);
  if (path === "/events") return events();
  if (path === "/die" && request.method === "POST") {
    console.log("dying");
    Deno.exit(1);
  }
  return new Response("not found", { status: 404 });
});
