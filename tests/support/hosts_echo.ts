/**
 * A tiny service for tests/hosts_test.ts, run inside a host: `GET /` answers
 * its name; `GET /call?to=<url>` asks another host and answers what it said
 * (502 when it could not, within a second). Run as
 * `deno run --allow-net hosts_echo.ts <name> <address> <port>`.
 *
 * @module
 */
const [name, hostname, port] = Deno.args;
Deno.serve({ hostname, port: Number(port), onListen: () => console.log(`${name} listening`) }, async (request) => {
  const to = new URL(request.url).searchParams.get("to");
  if (to === null) return new Response(name);
  try {
    const response = await fetch(to, { signal: AbortSignal.timeout(1000) });
    return new Response(await response.text(), { status: response.status });
  } catch (error) {
    return new Response(`cannot reach ${to}: ${(error as Error).name}`, { status: 502 });
  }
});
