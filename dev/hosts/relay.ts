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

// A read that fails (a reset) ends both directions; an end of stream only this one, passed on as a half-close.
async function pump(from: Deno.Conn, to: Deno.Conn, closeBoth: () => void): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
      for (let written = 0; written < n;) written += await to.write(buffer.subarray(written, n));
    }
  } catch {
    return closeBoth();
  }
  try {
    await to.closeWrite();
  } catch {
    closeBoth();
  }
}

/** Copies `a` to `b` and `b` to `a` until both directions end, then closes both. */
export async function splice(a: Deno.Conn, b: Deno.Conn): Promise<void> {
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
  await Promise.all([pump(a, b, closeBoth), pump(b, a, closeBoth)]);
  closeBoth();
}

function serve<A extends Deno.Addr>(
  listener: Deno.Listener<Deno.Conn<A>, A>,
  connect: () => Promise<Deno.Conn>,
): Relay {
  const open = new Set<Deno.Conn>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        connect().then(
          (target) => {
            open.add(target);
            splice(conn, target).finally(() => (open.delete(conn), open.delete(target)));
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
