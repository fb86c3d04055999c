/**
 * A real etcd cluster for tests: members on free loopback ports in a
 * temporary directory, started from the `etcd` binary with the same command
 * lines `deno task dev` uses, and the faults chaos tests need (SIGKILL,
 * SIGSTOP/SIGCONT, restart). There is no fake: without `etcd` on the PATH it
 * throws, naming the package to install.
 *
 * @module
 */
import { delay } from "../../async.ts";
import { freePorts } from "../../free_ports.ts";
import { type EtcdMember, etcdMemberArgs, etcdMembers, etcdMemberStatus } from "./cluster.ts";

/** Options of {@linkcode startEtcdCluster}. */
export interface EtcdClusterOptions {
  /** How many members. @default 3 */
  members?: number;
  /** The etcd binary. @default "etcd" */
  binary?: string;
  /** How long to wait for a leader (and for a restarted member). @default 20000 */
  timeoutMs?: number;
}

/** A running test cluster; `await using` stops it and deletes its data. */
export interface EtcdTestCluster extends AsyncDisposable {
  /** The members' client URLs, in member order. */
  readonly endpoints: string[];
  /** The members (names and ports). */
  readonly members: EtcdMember[];
  /** The directory holding every member's data. */
  readonly dataDir: string;
  /** SIGKILLs member `i` and waits for it to exit. */
  kill(i: number): Promise<void>;
  /**
   * SIGSTOPs member `i` and waits until every thread of it has stopped (the
   * signal's sender does not wait: on a loaded machine a member went on
   * answering for some milliseconds): it keeps its ports and answers nothing.
   */
  pause(i: number): Promise<void>;
  /** SIGCONTs member `i`. */
  resume(i: number): void;
  /** Starts member `i` again (after `kill`) from its data, and waits until it answers. */
  restart(i: number): Promise<void>;
  /** The index of the leader that the running members agree on, waiting (deadline) for an election. */
  leaderIndex(): Promise<number>;
  /** Kills every member and deletes the data. */
  stop(): Promise<void>;
}

const INSTALL_HINT = "apt-get install etcd-server etcd-client";

async function checkBinary(binary: string): Promise<void> {
  try {
    const { success } = await new Deno.Command(binary, { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    if (!success) throw new Error(`\`${binary} --version\` failed`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`the etcd tests need the \`${binary}\` binary on the PATH: ${INSTALL_HINT}`);
    }
    throw error;
  }
}

/**
 * Whether every thread of process `pid` is stopped, as Linux's /proc says;
 * true where there is no /proc to ask (nothing better to wait for).
 */
function allStopped(pid: number): true | undefined {
  let tasks: Deno.DirEntry[];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)];
  } catch {
    return true; // No /proc (not Linux), or no such process any more: nothing to wait for.
  }
  for (const task of tasks) {
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
    } catch {
      continue; // A thread that ended meanwhile.
    }
    // The state follows the command name, which is in parentheses and may itself hold any character.
    const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
    if (state !== "T" && state !== "t") return undefined;
  }
  return true;
}

/** One member's process and the last lines it wrote, for the error when it fails to start. */
class MemberProcess {
  #child: Deno.ChildProcess;
  #exited: Promise<Deno.CommandStatus>;
  #lines: string[] = [];
  paused = false;
  running = true;

  constructor(binary: string, args: string[]) {
    this.#child = new Deno.Command(binary, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
    this.#exited = this.#child.status;
    // Drained so that a chatty member never blocks on a full pipe.
    void this.#child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({
        write: (chunk) => {
          this.#lines.push(...chunk.split("\n").filter((line) => line.trim() !== ""));
          this.#lines.splice(0, Math.max(0, this.#lines.length - 20));
        },
      }),
    ).catch(() => {});
  }

  get log(): string {
    return this.#lines.join("\n");
  }

  get pid(): number {
    return this.#child.pid;
  }

  signal(signal: Deno.Signal): void {
    if (this.running) this.#child.kill(signal);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.#child.kill("SIGKILL");
    await this.#exited;
    this.running = false;
    this.paused = false;
  }
}

/**
 * Starts a cluster of `options.members` (3) etcd members on free loopback
 * ports and waits, within `options.timeoutMs`, until they have elected a
 * leader.
 *
 * @example
 * ```ts ignore
 * await using cluster = await startEtcdCluster();
 * const store = new EtcdKv({ endpoints: cluster.endpoints, prefix: "test/", timeoutMs: 2000 });
 * ```
 */
export async function startEtcdCluster(options: EtcdClusterOptions = {}): Promise<EtcdTestCluster> {
  const binary = options.binary ?? "etcd";
  const timeoutMs = options.timeoutMs ?? 20_000;
  await checkBinary(binary);
  const count = options.members ?? 3;
  const ports = freePorts(count * 2);
  const members = etcdMembers(
    Array.from({ length: count }, (_, i) => ({ client: ports[2 * i], peer: ports[2 * i + 1] })),
  );
  const dataDir = await Deno.makeTempDir({ prefix: "bookstore-etcd-" });
  const clusterToken = `bookstore-test-${crypto.randomUUID()}`;
  const argsOf = (member: EtcdMember) => etcdMemberArgs(member, { members, dataDir, clusterToken });
  const processes = members.map((member) => new MemberProcess(binary, argsOf(member)));
  const endpoints = members.map((member) => `http://127.0.0.1:${member.clientPort}`);
  const memberIds: string[] = [];

  const stop = async () => {
    for (const process of processes) process.signal("SIGCONT");
    await Promise.all(processes.map((process) => process.kill()));
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };

  const untilDeadline = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch (error) {
        last = error;
      }
      await delay(25);
    }
    const logs = processes.map((process, i) => `${members[i].name}:\n${process.log}`).join("\n");
    throw new Error(`etcd test cluster: ${what} within ${timeoutMs} ms (last error: ${last})\n${logs}`);
  };

  const leaderIndex = () =>
    untilDeadline("no leader agreed on", async () => {
      const live = processes.flatMap((process, i) => process.running && !process.paused ? [i] : []);
      const statuses = await Promise.all(live.map((i) => etcdMemberStatus(endpoints[i], { timeoutMs: 500 })));
      const leaders = new Set(statuses.map((status) => status.leaderId));
      const [leaderId] = leaders;
      const index = memberIds.indexOf(leaderId);
      return leaders.size === 1 && live.includes(index) ? index : undefined;
    });

  try {
    const statuses = await untilDeadline("the members did not elect a leader", async () => {
      const all = await Promise.all(endpoints.map((endpoint) => etcdMemberStatus(endpoint, { timeoutMs: 500 })));
      return all.every((status) => status.leaderId !== "0" && status.leaderId === all[0].leaderId) ? all : undefined;
    });
    memberIds.push(...statuses.map((status) => status.memberId));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoints,
    members,
    dataDir,
    kill: (i) => processes[i].kill(),
    async pause(i) {
      processes[i].signal("SIGSTOP");
      processes[i].paused = true;
      await untilDeadline(`${members[i].name} did not stop`, () => Promise.resolve(allStopped(processes[i].pid)));
    },
    resume(i) {
      processes[i].signal("SIGCONT");
      processes[i].paused = false;
    },
    async restart(i) {
      await processes[i].kill();
      processes[i] = new MemberProcess(binary, argsOf(members[i]));
      await untilDeadline(`${members[i].name} did not answer after its restart`, async () => {
        await etcdMemberStatus(endpoints[i], { timeoutMs: 500 });
        return true;
      });
    },
    leaderIndex,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
