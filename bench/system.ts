/**
 * The system as a user runs it, for the benchmarks: `deno task dev`'s own
 * command (from deno.json) as a child process, on free loopback ports in a
 * temporary data directory, so that what is measured is every process a
 * newcomer starts (the supervisor, the web app, the services, the four
 * executor replicas) with the defaults they get — with `store: "etcd"`,
 * `BOOKSTORE_STORE=etcd deno task dev`: three etcd members and two queue
 * replicas besides; with `replicas: 2` as well, `BOOKSTORE_REPLICAS=2`: two
 * instances of each validator, orchestrator and web app, HAProxy on the
 * public ports in front of the orchestrators and the web apps.
 *
 * @module
 */
import { loadConfig, localUrl } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createClient } from "@bookstore/lib/rpc";
import { queuePorts, serviceInstances } from "@bookstore/dev/topology";
import { devTask } from "../tests/support/dev_task.ts";
import { eventually } from "../tests/support/wait.ts";
import { delay } from "@bookstore/lib/async";

/** One process of the running system. */
export interface SystemProcess {
  /**
   * Its name in the dev topology (`orchestrator`, `orchestrator_2`, `order_executor_3`, `order_queue_2`, `etcd1`,
   * `load_balancer`…), or `supervisor` for `deno task dev` itself.
   */
  name: string;
  /** Its process id. */
  pid: number;
}

/** A running `deno task dev`. */
export interface DevSystem extends AsyncDisposable {
  /** Where the services keep their state. */
  store: "kv" | "etcd";
  /** Instances of each validator, orchestrator and web app (`BOOKSTORE_REPLICAS`). */
  replicas: number;
  /** The orchestrator's public base URL (HAProxy's, with more than one instance). */
  orchestrator: string;
  /** The data directory (removed when the system stops). */
  dataDir: string;
  /** Every process as it started, the supervisor first. */
  processes: SystemProcess[];
  /** The etcd members' names and client URLs (none with `kv`). */
  etcd: { name: string; endpoint: string }[];
  /** Each queue replica's name and base URL (one, `order_queue`, with `kv`). */
  queueReplicas: { name: string; url: string }[];
  /** A client of the queue (every replica), with the service credential. */
  queue: ReturnType<typeof createQueueClient>;
  /** The pid a process has now (a restarted one has a new one); undefined while it is down. */
  pidOf(name: string): Promise<number | undefined>;
  /**
   * Stops every process of the system (SIGSTOP), so that a system left idle while another is measured takes no CPU
   * from it.
   */
  pause(): Promise<void>;
  /**
   * Lets every process go on again (SIGCONT) and waits until the system has settled: the queue answers, an executor
   * leads, and whatever the pause set off (the executors' election, their first dequeue) is over.
   */
  resume(): Promise<void>;
}

/** How long a resumed system is left to settle before it is measured: its executors' election takes a few hundred ms. */
export const SETTLE_MS = 2000;

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
  /** `etcd` runs `BOOKSTORE_STORE=etcd deno task dev`. @default "kv" */
  store?: "kv" | "etcd";
  /** `BOOKSTORE_REPLICAS` (above 1 with `store: "etcd"`; HAProxy then takes the public ports). @default 1 */
  replicas?: number;
}

/** The supervisor's name of HAProxy, which runs as `sh -c "… exec haproxy …"`: the pid the supervisor holds is HAProxy's. */
const LOAD_BALANCER = "load_balancer";

/**
 * The processes `parent` runs now that do not answer `/healthz`, by name, from `/proc`: the etcd members (by their
 * `--name=etcd2`) and HAProxy ({@linkcode LOAD_BALANCER}).
 */
export async function commandChildren(parent: number): Promise<Map<string, number>> {
  const members = new Map<string, number>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // The parent's pid is the second field after the command name, which may hold spaces.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== parent) continue;
      const args = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`)).split("\0");
      const name = args.find((arg) => arg.startsWith("--name="))?.slice("--name=".length);
      if (name !== undefined && /(^|\/)etcd$/.test(args[0])) members.set(name, Number(entry.name));
      if (/(^|\/)haproxy$/.test(args[0])) members.set(LOAD_BALANCER, Number(entry.name));
    } catch {
      // Gone since the directory was read.
    }
  }
  return members;
}

async function healthPid(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    if (response.ok) return (await response.json()).pid;
    await response.body?.cancel();
  } catch {
    // Down, or restarting.
  }
  return undefined;
}

/** Starts `deno task dev` and waits until it prints its table of URLs. */
export async function startDevSystem(options: DevSystemOptions = {}): Promise<DevSystem> {
  const token = crypto.randomUUID().replaceAll("-", "");
  const store = options.store ?? "kv";
  const replicas = options.replicas ?? 1;
  const { command, ports, etcd, dataDir, env } = await devTask({
    prefix: "bookstore-bench-",
    store,
    replicas,
    env: { BOOKSTORE_SERVICE_TOKEN: token, ...options.env },
  });
  const config = loadConfig(env);
  const dev = command.spawn();
  // Its output is read and dropped as it comes, as a terminal would show it, so that the pipe never fills.
  let head = "";
  const reading = Promise.all([dev.stdout, dev.stderr].map(async (stream) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      if (head.length < 100_000) head += chunk;
    }
  }));
  // The processes last paused (none while running): a paused system must go on again to hear that it is to stop.
  let paused: number[] = [];
  const stop = async () => {
    for (const pid of paused) {
      try {
        Deno.kill(pid, "SIGCONT");
      } catch {
        // Gone.
      }
    }
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
    const queueCount = config.queueReplicas.count;
    const queueReplicas = queuePorts(ports, queueCount).map((port, i) => ({
      name: queueCount === 1 ? "order_queue" : `order_queue_${i + 1}`,
      url: `http://127.0.0.1:${port}`,
    }));
    const urls = new Map<string, string>(queueReplicas.map(({ name, url }) => [name, url]));
    const queue = createQueueClient(config.urls.orderQueue, token);
    const processes: SystemProcess[] = [{ name: "supervisor", pid: dev.pid }];
    const pidOf = async (name: string) => {
      if (name === "supervisor") return dev.pid;
      const url = urls.get(name);
      return url === undefined ? (await commandChildren(dev.pid)).get(name) : await healthPid(url);
    };
    // By the pids the processes have now: one may have been restarted since the start. Paused, a process cannot
    // answer /healthz: the pids are read while every process runs, then signalled.
    const signalAll = async (signal: "SIGSTOP" | "SIGCONT") => {
      if (signal === "SIGSTOP") {
        paused = (await Promise.all(processes.map(({ name }) => pidOf(name)))).filter((pid) => pid !== undefined);
      }
      for (const pid of paused) {
        try {
          Deno.kill(pid, signal);
        } catch {
          // Gone meanwhile: the supervisor restarts it, running.
        }
      }
    };
    const children = await commandChildren(dev.pid);
    for (const [name, pid] of [...children].sort()) processes.push({ name, pid });
    if (replicas > 1 && !children.has(LOAD_BALANCER)) throw new Error("no HAProxy among deno task dev's processes");
    // Instances answer their service's name: they are named here by port, as the topology names them.
    for (const instance of Object.values(serviceInstances(ports, replicas)).flat()) {
      urls.set(instance.name, localUrl(instance.port));
    }
    for (const port of ports.executors) {
      const health = await (await fetch(`${localUrl(port)}/healthz`)).json();
      urls.set(health.service, localUrl(port));
    }
    // Every queue replica answers `order_queue` as its name: they are named here by port, as the topology names them.
    for (const [name, url] of urls) processes.push({ name, pid: (await healthPid(url))! });
    return {
      store,
      replicas,
      orchestrator: `http://127.0.0.1:${ports.orchestrator}`,
      dataDir,
      processes,
      etcd: etcd.map(({ client }, i) => ({ name: `etcd${i + 1}`, endpoint: `http://127.0.0.1:${client}` })),
      queueReplicas,
      // Every replica, as the system's own processes read them from the same environment.
      queue,
      pidOf,
      pause: () => signalAll("SIGSTOP"),
      resume: async () => {
        await signalAll("SIGCONT");
        paused = [];
        await eventually(async () => (await queue.GetQueueStatus({})).leaderId !== 0, {
          timeoutMs: 30_000,
          message: "an executor to lead after the pause",
        });
        await delay(SETTLE_MS);
      },
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${head.slice(-3000)}`);
  }
}
