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
import { freePorts } from "./cluster.ts";

/** The command of `deno task dev`, ready to spawn. */
export interface DevTask {
  /** The command (stdin closed, stdout and stderr piped). */
  command: Deno.Command;
  /** The arguments of `deno` in the task. */
  args: string[];
  /** The ports every process will listen on. */
  ports: Ports;
  /** The data directory (the caller removes it). */
  dataDir: string;
  /** The environment the task runs with (what `loadConfig` reads in every process it starts). */
  env: Record<string, string>;
}

/** Prepares `deno task dev` with `env` on top of the ports and the data directory. */
export async function devTask(options: { env?: Record<string, string>; prefix: string }): Promise<DevTask> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const [command, ...args] = (config.tasks.dev as string).split(" ");
  if (command !== "deno") throw new Error(`deno task dev runs ${command}, not deno`);
  const [web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, ...executors] = freePorts(
    10,
  );
  const ports = { web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, executors };
  const dataDir = await Deno.makeTempDir({ prefix: options.prefix });
  const env: Record<string, string> = {
    BOOKSTORE_DATA_DIR: dataDir,
    WEB_PORT: String(web),
    ORCHESTRATOR_PORT: String(orchestrator),
    TRANSACTION_VERIFICATION_PORT: String(transactionVerification),
    FRAUD_DETECTION_PORT: String(fraudDetection),
    SUGGESTIONS_PORT: String(suggestions),
    ORDER_QUEUE_PORT: String(orderQueue),
    EXECUTOR_PEERS: executors.map((port, i) => `${i + 1}=http://127.0.0.1:${port}`).join(","),
    ...options.env,
  };
  for (const key of ["HOME", "PATH", "DENO_DIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
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
    dataDir,
    env,
  };
}
