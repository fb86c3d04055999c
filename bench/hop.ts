/**
 * One hop of the floor's chain: a Deno process with a trivial JSON handler
 * that forwards the body to the next hop (`NEXT_URL`) and answers what it
 * answers, or answers `{ok: true}` at the end of the chain. A chain of such
 * processes on loopback is what a checkout's RPC pattern costs with nothing
 * else in it.
 *
 * @module
 */
if (import.meta.main) {
  const next = Deno.env.get("NEXT_URL");
  const port = Number(Deno.env.get("PORT") ?? "0");
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("ready") }, async (request) => {
    if (request.method === "GET") return Response.json({ status: "ok" });
    const body = await request.json();
    if (!next) return Response.json({ ok: true, hops: body.hops ?? 0 });
    const answer = await fetch(next, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, hops: (body.hops ?? 0) + 1 }),
    });
    return Response.json(await answer.json());
  });
}
