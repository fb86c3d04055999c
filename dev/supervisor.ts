/**
 * Runs a set of processes — the services' Deno entry points and other
 * programs (etcd members) alike — prefixes their output, restarts one that
 * dies after a short backoff, and stops them all on request. Used by
 * `deno task dev` and by the integration tests.
 *
 * @module
 */
import { waitFor } from "@bookstore/lib/async";
import { type ProcessSpec, V8_FLAGS } from "./topology.ts";

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** Repository root, the working directory of every child. */
  root: URL;
  /** Whether a child that exits on its own is started again (default true). */
  restart?: boolean;
  /** First restart delay; doubles per crash up to 5 s (default 250 ms). */
  backoffMs?: number;
  /** Receives every output line of every child, and the supervisor's own notes. */
  onLine?: (name: string, line: string) => void;
  /** Extra flags for every child's `deno run`, e.g. `["--cpu-prof"]` for profiling (default none). */
  denoFlags?: string[];
  /**
   * How many of each child's latest output lines {@linkcode Supervisor.lines}
   * keeps (default all of them, as the tests that read a run back need).
   * `deno task dev` keeps a window: a long-running system logs without end.
   */
  keepLines?: number;
}

interface Child {
  spec: ProcessSpec;
  process?: Deno.ChildProcess;
  exited?: Promise<Deno.CommandStatus>;
  /** Settles once everything the process wrote has been read. */
  drained?: Promise<unknown>;
  restarts: number;
  stopped: boolean;
  startedAt: number;
}

/**
 * Supervises child processes.
 *
 * @example Run one process, read its output, stop it
 * ```ts
 * import assert from "node:assert/strict";
 * import { waitFor } from "@bookstore/lib/async";
 * import { Supervisor } from "./supervisor.ts";
 *
 * const script = await Deno.makeTempFile({ suffix: ".ts" });
 * await Deno.writeTextFile(script, 'console.log("hello"); setInterval(() => {}, 1000);');
 * const lines: string[] = [];
 * const supervisor = new Supervisor([{ name: "hello", entry: script, port: 0, env: {} }], {
 *   root: new URL("file:///"),
 *   restart: false,
 *   onLine: (name, line) => lines.push(`${name}: ${line}`),
 * });
 * supervisor.start();
 * await waitFor(() => lines.includes("hello: hello"), 30_000);
 * await supervisor.stopAll();
 * await Deno.remove(script);
 * assert.ok(lines.includes("hello: hello"));
 * ```
 */
export class Supervisor {
  readonly #children = new Map<string, Child>();
  readonly #options: SupervisorOptions;
  readonly #lines = new Map<string, string[]>();

  /** Prepares (without starting) one child per spec. */
  constructor(specs: ProcessSpec[], options: SupervisorOptions) {
    this.#options = options;
    for (const spec of specs) {
      this.#children.set(spec.name, { spec, restarts: 0, stopped: true, startedAt: 0 });
      this.#lines.set(spec.name, []);
    }
  }

  /** Names of every child. */
  get names(): string[] {
    return [...this.#children.keys()];
  }

  /** The spec of a child. */
  spec(name: string): ProcessSpec {
    return this.#child(name).spec;
  }

  /**
   * Starts every child (or only `names`); throws, naming the child and the
   * program, when a program cannot be started at all (it is not installed).
   */
  start(names: string[] = this.names): void {
    for (const name of names) this.#spawn(this.#child(name));
  }

  /** The pid of a running child. */
  pid(name: string): number | undefined {
    return this.#child(name).process?.pid;
  }

  /** How often a child was restarted after dying. */
  restarts(name: string): number {
    return this.#child(name).restarts;
  }

  /** Every output line a child wrote so far (its latest `keepLines`, when that is set). */
  lines(name: string): readonly string[] {
    const lines = this.#lines.get(name) ?? [];
    const keep = this.#options.keepLines ?? Infinity;
    return lines.length > keep ? lines.slice(lines.length - keep) : lines;
  }

  /** Sends a signal to a child; with `SIGKILL` and restarts on, it comes back. */
  kill(name: string, signal: Deno.Signal = "SIGKILL"): void {
    this.#child(name).process?.kill(signal);
  }

  /** Stops a child for good (until `start`), waiting for it to exit and for its output to be read. */
  async stop(name: string, signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child(name);
    child.stopped = true;
    if (!child.process) return;
    try {
      child.process.kill(signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        child.process?.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5000);
    await child.exited;
    await child.drained;
    clearTimeout(timer);
  }

  /** Stops every child. */
  async stopAll(): Promise<void> {
    await Promise.all(this.names.map((name) => this.stop(name)));
  }

  /** Waits until every child (or `names`) answers its health path (`GET /healthz` by default) with 200. */
  async waitHealthy(options: { timeoutMs: number; names?: string[] }): Promise<void> {
    const pending = new Set(options.names ?? this.names);
    const allHealthy = async () => {
      await Promise.all([...pending].map(async (name) => {
        const { port, healthPath, host } = this.#child(name).spec;
        if (await answers(`http://${host?.address ?? "127.0.0.1"}:${port}${healthPath ?? "/healthz"}`)) {
          pending.delete(name);
        }
      }));
      return pending.size === 0;
    };
    try {
      await waitFor(allHealthy, options.timeoutMs, { step: 50 });
    } catch (error) {
      if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
      throw new Error(`not healthy after ${options.timeoutMs} ms: ${[...pending].join(", ")}`);
    }
  }

  #child(name: string): Child {
    const child = this.#children.get(name);
    if (!child) throw new Error(`no process named ${name}`);
    return child;
  }

  #note(name: string, line: string) {
    this.#options.onLine?.(name, line);
  }

  #spawn(child: Child) {
    if (child.process && !child.stopped) return;
    const { spec } = child;
    const [program, args] = this.#commandLine(spec);
    let process: Deno.ChildProcess;
    try {
      process = new Deno.Command(program, {
        args,
        cwd: this.#options.root,
        env: spec.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      child.stopped = true;
      throw new Error(`cannot start ${spec.name} (${program}): ${(error as Error).message}`, { cause: error });
    }
    child.stopped = false;
    child.startedAt = Date.now();
    child.process = process;
    child.drained = Promise.all([this.#pipe(spec.name, process.stdout), this.#pipe(spec.name, process.stderr)]);
    child.exited = process.status;
    process.status.then((status) => this.#onExit(child, process, status));
  }

  // A process on a host of its own runs in its namespace.
  #commandLine(spec: ProcessSpec): [string, string[]] {
    const [program, args] = this.#programLine(spec);
    return spec.host ? ["ip", ["netns", "exec", spec.host.namespace, program, ...args]] : [program, args];
  }

  // A Deno entry point runs with the permissions every service has; another program runs as it is.
  #programLine(spec: ProcessSpec): [string, string[]] {
    if ("command" in spec) return [spec.command, spec.args];
    const dataDir = spec.env.BOOKSTORE_DATA_DIR ?? "./data";
    return [Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `--allow-write=${dataDir}`,
      ...V8_FLAGS,
      ...(this.#options.denoFlags ?? []),
      spec.entry,
    ]];
  }

  async #pipe(name: string, stream: ReadableStream<Uint8Array<ArrayBuffer>>) {
    const lines = this.#lines.get(name)!;
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      // One split per chunk: slicing the rest of the buffer off after each line copied it once per line.
      const parts = (buffer + chunk).split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        this.#keep(lines, line);
        this.#options.onLine?.(name, line);
      }
    }
    if (buffer) {
      this.#keep(lines, buffer);
      this.#options.onLine?.(name, buffer);
    }
  }

  #keep(lines: string[], line: string) {
    lines.push(line);
    // Trimmed in chunks, so that keeping a window costs no more than a push per line.
    const keep = this.#options.keepLines ?? Infinity;
    if (lines.length > keep + Math.min(keep, 1024)) lines.splice(0, lines.length - keep);
  }

  #onExit(child: Child, process: Deno.ChildProcess, status: Deno.CommandStatus) {
    if (child.process !== process) return;
    child.process = undefined;
    const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    if (child.stopped || this.#options.restart === false) {
      child.stopped = true;
      this.#note(child.spec.name, `[supervisor] ${child.spec.name} exited (${how})`);
      return;
    }
    // A child that ran a while before crashing starts over with the short delay.
    const ranLong = Date.now() - child.startedAt > 10_000;
    const attempt = ranLong ? 0 : child.restarts;
    const delay = Math.min((this.#options.backoffMs ?? 250) * 2 ** attempt, 5000);
    child.restarts += 1;
    this.#note(
      child.spec.name,
      `[supervisor] ${child.spec.name} exited (${how}); restart #${child.restarts} in ${delay} ms`,
    );
    setTimeout(() => {
      if (child.stopped) return;
      try {
        this.#spawn(child);
      } catch (error) {
        // The program went away while the system ran: say so, and leave the child stopped.
        this.#note(child.spec.name, `[supervisor] ${(error as Error).message}`);
      }
    }, delay);
  }
}

/** Whether a process on `port` answers `GET <path>` (default `/healthz`) with 200. */
export function isHealthy(port: number, path = "/healthz"): Promise<boolean> {
  return answers(`http://127.0.0.1:${port}${path}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
