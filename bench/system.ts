/**
 * The system as a user runs it, for the benchmarks: `deno task dev`'s own
 * command (from deno.json) as a child process, on free loopback ports in a
 * temporary data directory, so that what is measured is every process a
 * newcomer starts (the supervisor, the web app, the services, the four
 * executor replicas) with the defaults they get.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createClient } from "@bookstore/lib/rpc";
import { devTask } from "../tests/support/dev_task.ts";
import { eventually } from "../tests/support/wait.ts";

/** One process of the running system. */
export interface SystemProcess {
  /** Its name in the dev topology (`orchestrator`, `order_executor_3`…), or `supervisor` for `deno task dev` itself. */
  name: string;
  /** Its process id. */
  pid: number;
}

/** A running `deno task dev`. */
export interface DevSystem extends AsyncDisposable {
  /** The orchestrator's base URL. */
  orchestrator: string;
  /** Every process, the supervisor first. */
  processes: SystemProcess[];
  /** A client of the queue (every replica), with the service credential. */
  queue: ReturnType<typeof createQueueClient>;
}

function createQueueClient(urls: readonly string[], token: string) {
  return createClient(orderQueueService, {
    baseUrl: urls,
    peer: "order_queue",
    token,
    timeoutMs: 5000,
    breaker: false,
  });
}

/** Options for {@linkcode startDevSystem}. */
export interface DevSystemOptions {
  /** Extra environment on top of the defaults (the benchmark turns the rate limit off, for one). */
  env?: Record<string, string>;
}

/** Starts `deno task dev` and waits until it prints its table of URLs. */
export async function startDevSystem(options: DevSystemOptions = {}): Promise<DevSystem> {
  const token = crypto.randomUUID().replaceAll("-", "");
  const { command, ports, dataDir, env } = await devTask({
    prefix: "bookstore-bench-",
    env: { BOOKSTORE_SERVICE_TOKEN: token, ...options.env },
  });
  const dev = command.spawn();
  // Its output is read and dropped as it comes, as a terminal would show it, so that the pipe never fills.
  let head = "";
  const reading = Promise.all([dev.stdout, dev.stderr].map(async (stream) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      if (head.length < 100_000) head += chunk;
    }
  }));
  const stop = async () => {
    try {
      dev.kill("SIGINT");
    } catch {
      // Already gone.
    }
    await dev.status;
    await reading;
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  try {
    await eventually(() => head.includes("The bookstore is up:"), {
      timeoutMs: 90_000,
      message: "deno task dev to print its URLs",
    });
    const processes: SystemProcess[] = [{ name: "supervisor", pid: dev.pid }];
    const { executors, ...services } = ports;
    for (const port of [...Object.values(services), ...executors]) {
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      processes.push({ name: health.service, pid: health.pid });
    }
    return {
      orchestrator: `http://127.0.0.1:${ports.orchestrator}`,
      processes,
      // Every replica, as the system's own processes read them from the same environment.
      queue: createQueueClient(loadConfig(env).urls.orderQueue, token),
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${head.slice(-3000)}`);
  }
}
