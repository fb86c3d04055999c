import assert from "node:assert/strict";
import { waitFor } from "@bookstore/lib/async";
import { delayingRelay, relayTcpToUnix, relayUnixToTcp } from "./relay.ts";
import { parseRoute, routeArg } from "./relay_main.ts";

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  const buffer = new Uint8Array(1024);
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) chunks.push(buffer.slice(0, n));
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

/** `promise`, or a rejection naming `what` after `ms` (a relay that loses a half-close would hang the test). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`${what}: no end after ${ms} ms`)), ms)
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("TCP to a Unix socket to TCP carries both directions and passes a half-close on", async () => {
  const dir = await Deno.makeTempDir();
  // An echo server that answers only once the request has ended: it needs the client's half-close to arrive.
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await server.accept();
    const request = await readAll(conn);
    await conn.write(new TextEncoder().encode(`echo:${request}`));
    conn.close();
  })();
  await using inside = relayUnixToTcp({
    path: `${dir}/s.sock`,
    target: { hostname: "127.0.0.1", port: server.addr.port },
  });
  await using outside = relayTcpToUnix({ listen: { hostname: "127.0.0.1", port: 0 }, path: `${dir}/s.sock` });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: outside.port });
  await client.write(new TextEncoder().encode("x".repeat(200_000)));
  await client.closeWrite();
  const answer = await within(readAll(client), 20_000, "the echo");
  client.close();
  await serving;
  server.close();
  assert.equal(answer, `echo:${"x".repeat(200_000)}`);
  outside.close();
  inside.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a connection whose target is not there is closed, not left open", async () => {
  const dir = await Deno.makeTempDir();
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  await using inside = relayUnixToTcp({ path: `${dir}/s.sock`, target: { hostname: "127.0.0.1", port } });
  await using outside = relayTcpToUnix({ listen: { hostname: "127.0.0.1", port: 0 }, path: `${dir}/s.sock` });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: outside.port });
  assert.equal(await readAll(client).catch(() => ""), "");
  client.close();
  outside.close();
  inside.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a route names a socket and a loopback address, and nothing else", () => {
  const route = { path: "/tmp/bks-1/web.sock", hostname: "127.77.1.3", port: 8000 };
  assert.deepEqual(parseRoute(routeArg(route)), route);
  assert.throws(() => parseRoute("/tmp/x.sock=0.0.0.0:80"));
  assert.throws(() => parseRoute("/tmp/x.sock=240.0.0.1:80"));
});

Deno.test("a delaying relay makes each round trip about twice its delay longer, and keeps the bytes in order", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await server.accept();
    const buffer = new Uint8Array(1024);
    // Echoes each chunk as it comes.
    for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) await conn.write(buffer.slice(0, n));
    conn.close();
  })();
  const delayMs = 150;
  await using relay = delayingRelay({
    listen: { hostname: "127.0.0.1", port: 0 },
    target: { hostname: "127.0.0.1", port: server.addr.port },
    delayMs,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  const roundTrip = async (text: string) => {
    const started = performance.now();
    await client.write(new TextEncoder().encode(text));
    const buffer = new Uint8Array(1024);
    let got = "";
    while (got.length < text.length) got += new TextDecoder().decode(buffer.subarray(0, (await client.read(buffer))!));
    return { got, ms: performance.now() - started };
  };
  const trips = [await roundTrip("one"), await roundTrip("two"), await roundTrip("three")];
  client.closeWrite();
  await serving;
  server.close();
  client.close();
  relay.close();
  assert.deepEqual(trips.map((trip) => trip.got), ["one", "two", "three"]);
  for (const { ms } of trips) assert.ok(ms >= 2 * delayMs - 5, `a round trip took ${ms} ms`);
});

Deno.test("a delaying relay whose target goes away mid-stream closes the client too, and does not crash", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await server.accept();
    await conn.read(new Uint8Array(16));
    conn.close();
  })();
  await using relay = delayingRelay({
    listen: { hostname: "127.0.0.1", port: 0 },
    target: { hostname: "127.0.0.1", port: server.addr.port },
    delayMs: 50,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: relay.port });
  await client.write(new TextEncoder().encode("hello"));
  await serving;
  // The relay's delayed writes to the gone target fail while it waits on the client's next chunk: it must close the
  // client's connection, which the client sees as a write that fails.
  await waitFor(
    async () => {
      try {
        await client.write(new Uint8Array(1000));
        return false;
      } catch {
        return true;
      }
    },
    10_000,
    { step: 20 },
  );
  client.close();
  server.close();
});
