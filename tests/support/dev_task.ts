/**
 * `deno task dev` as a newcomer runs it, for the tests and benchmarks that
 * start the whole system that way: the task's own command from deno.json,
 * on free loopback ports, in a new temporary data directory, with nothing of
 * this machine's environment but what Deno needs to find its cache.
 *
 * @module
 */
import type { Ports } from "@bookstore/dev/topology";
import { ROOT } from "./buf.ts";
import { freeTopologyPorts } from "./cluster.ts";

/** The command of `deno task dev`, ready to spawn. */
export interface DevTask {
  /** The command (stdin closed, stdout and stderr piped). */
  command: Deno.Command;
  /** The arguments of `deno` in the task. */
  args: string[];
  /** The ports every process will listen on (queue replica n on `ports.orderQueue + n - 1`). */
  ports: Ports;
  /** The etcd members' client and peer ports, with `store: "etcd"` (`BOOKSTORE_ETCD_PORTS`). */
  etcd: { client: number; peer: number }[];
  /** The data directory (the caller removes it). */
  dataDir: string;
  /** The environment the task runs with (what `loadConfig` reads in every process it starts). */
  env: Record<string, string>;
}

/** Options for {@linkcode devTask}. */
export interface DevTaskOptions {
  /** Environment on top of the ports and the data directory (`PATH` here replaces this process's). */
  env?: Record<string, string>;
  /** The temporary data directory's prefix. */
  prefix: string;
  /**
   * `etcd` runs `BOOKSTORE_STORE=etcd deno task dev`: its three members on free ports (`BOOKSTORE_ETCD_PORTS`) and
   * two queue replicas on consecutive ones. @default "kv"
   */
  store?: "kv" | "etcd";
  /**
   * `BOOKSTORE_REPLICAS`: instances of each validator, orchestrator and web app, their ports free too, and above 1
   * the load balancer's own port (`LOAD_BALANCER_PORT`). @default 1
   */
  replicas?: number;
}

/** Prepares `deno task dev` with `env` on top of the ports and the data directory. */
export async function devTask(options: DevTaskOptions): Promise<DevTask> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const [command, ...args] = (config.tasks.dev as string).split(" ");
  if (command !== "deno") throw new Error(`deno task dev runs ${command}, not deno`);
  const etcd = options.store === "etcd";
  const replicas = options.replicas ?? 1;
  const { ports, etcd: members } = freeTopologyPorts({
    queueReplicas: etcd ? 2 : 1,
    etcdMembers: etcd ? 3 : 0,
    replicas,
  });
  const { web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, executors } = ports;
  const dataDir = await Deno.makeTempDir({ prefix: options.prefix });
  const env: Record<string, string> = {
    ...(etcd && {
      BOOKSTORE_STORE: "etcd",
      BOOKSTORE_ETCD_PORTS: members.map(({ client, peer }) => `${client}:${peer}`).join(","),
    }),
    BOOKSTORE_DATA_DIR: dataDir,
    WEB_PORT: String(web),
    ORCHESTRATOR_PORT: String(orchestrator),
    TRANSACTION_VERIFICATION_PORT: String(transactionVerification),
    FRAUD_DETECTION_PORT: String(fraudDetection),
    SUGGESTIONS_PORT: String(suggestions),
    ORDER_QUEUE_PORT: String(orderQueue),
    EXECUTOR_PEERS: executors.map((port, i) => `${i + 1}=http://127.0.0.1:${port}`).join(","),
    ...(replicas > 1 && { BOOKSTORE_REPLICAS: String(replicas), LOAD_BALANCER_PORT: String(ports.loadBalancer) }),
    ...options.env,
  };
  for (const key of ["HOME", "PATH", "DENO_DIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined && env[key] === undefined) env[key] = value;
  }
  return {
    command: new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }),
    args,
    ports,
    etcd: members,
    dataDir,
    env,
  };
}

/** A `deno task dev` running, its output collected. */
export interface RunningDev {
  /** Its process. */
  child: Deno.ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Stops it as Ctrl-C would and waits until it has exited and its output is read. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Spawns `task` with `args` after the task's own (`["--hosts"]`), collecting what it prints. */
export function spawnDev(task: DevTask, options: { args?: string[] } = {}): RunningDev {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...task.args, ...options.args ?? []],
    cwd: ROOT,
    env: task.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) output += chunk;
  }));
  return {
    child,
    output: () => output,
    async stop() {
      child.kill("SIGINT");
      const status = await child.status;
      await reading;
      return status;
    },
  };
}
