/**
 * Relays that carry TCP connections between network namespaces over Unix
 * sockets (the filesystem is shared by every namespace, the network is not):
 * the root namespace listens on 127.0.0.1 and hands each connection to a
 * socket; inside a host, a relay takes it from the socket to a host's
 * address. Each direction is copied on its own, and the end of one (a
 * half-close) is passed on as a half-close, so a request and its response
 * can overlap as they do on a direct connection.
 *
 * @module
 */

/** A running relay. */
export interface Relay extends AsyncDisposable {
  /** Stops listening and drops the connections it carries. */
  close(): void;
}

/** The address a TCP relay listens on or connects to. */
export interface TcpAddress {
  /** An address in 127.0.0.0/8. */
  hostname: string;
  /** Its port (0 for any free one, when listening). */
  port: number;
}

// A read that fails (a reset) ends both directions; an end of stream only this one, passed on as a half-close. With a
// delay, each chunk is written that long after it was read, in order, while reading goes on: latency, not a slower
// link.
async function pump(from: Deno.Conn, to: Deno.Conn, options: { closeBoth: () => void; delayMs: number }) {
  const { closeBoth, delayMs } = options;
  let written = Promise.resolve();
  const forward = async (chunk: Uint8Array, due: number) => {
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    for (let at = 0; at < chunk.length;) at += await to.write(chunk.subarray(at));
  };
  try {
    const buffer = new Uint8Array(64 * 1024);
    for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
      if (delayMs === 0) {
        await forward(buffer.subarray(0, n), 0);
        continue;
      }
      const chunk = buffer.slice(0, n);
      const due = Date.now() + delayMs;
      written = written.then(() => forward(chunk, due));
      // A write that fails while the loop waits on the next read (the other side reset, the relay closed) closes
      // both at once; left unhandled, its rejection would end the process the relay runs in.
      written.catch(closeBoth);
    }
    await written;
  } catch {
    return closeBoth();
  }
  try {
    await to.closeWrite();
  } catch {
    closeBoth();
  }
}

/** Copies `a` to `b` and `b` to `a` until both directions end, then closes both; `delayMs` late each way. */
export async function splice(pair: [Deno.Conn, Deno.Conn], options: { delayMs?: number } = {}): Promise<void> {
  const [a, b] = pair;
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    for (const conn of [a, b]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  const delayMs = options.delayMs ?? 0;
  await Promise.all([pump(a, b, { closeBoth, delayMs }), pump(b, a, { closeBoth, delayMs })]);
  closeBoth();
}

function serve<A extends Deno.Addr>(
  listener: Deno.Listener<Deno.Conn<A>, A>,
  connect: () => Promise<Deno.Conn>,
  delayMs = 0,
): Relay {
  const open = new Set<Deno.Conn>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        connect().then(
          (target) => {
            open.add(target);
            splice([conn, target], { delayMs }).finally(() => (open.delete(conn), open.delete(target)));
          },
          () => (open.delete(conn), conn.close()),
        );
      }
    } catch {
      // Closed.
    }
  })();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    listener.close();
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  return { close, [Symbol.asyncDispose]: async () => (close(), await accepting) };
}

/** Listens on TCP `listen` and relays each connection to the Unix socket at `path`. */
export function relayTcpToUnix(options: { listen: TcpAddress; path: string }): Relay & { port: number } {
  const listener = Deno.listen({ transport: "tcp", ...options.listen });
  const relay = serve(listener, () => Deno.connect({ transport: "unix", path: options.path }));
  return { ...relay, port: listener.addr.port };
}

/** Listens on the Unix socket at `path` and relays each connection to TCP `target`. */
export function relayUnixToTcp(options: { path: string; target: TcpAddress }): Relay {
  try {
    Deno.removeSync(options.path);
  } catch {
    // No socket of an earlier run.
  }
  const listener = Deno.listen({ transport: "unix", path: options.path });
  return serve(listener, () => Deno.connect({ transport: "tcp", ...options.target }));
}

/**
 * Listens on TCP `listen` and relays each connection to TCP `target`, each
 * chunk `delayMs` late in each direction (a round trip `2 × delayMs` longer):
 * added latency on a link, where this kernel has no `netem`. Run it inside
 * the host whose address it listens on.
 */
export function delayingRelay(options: { listen: TcpAddress; target: TcpAddress; delayMs: number }) {
  const listener = Deno.listen({ transport: "tcp", ...options.listen });
  const relay = serve(listener, () => Deno.connect({ transport: "tcp", ...options.target }), options.delayMs);
  return { ...relay, port: listener.addr.port };
}
