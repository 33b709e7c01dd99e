/**
 * A long-running remote command (pkt-gen) that can be stopped for sure. The command runs as the
 * leader of its own session and process group (`setsid`), writes its pid to a pidfile first, then
 * `exec`s the program: stopping it signals the whole group (`kill -INT -- -PGID`), which is how
 * pkt-gen expects to be stopped (its ^C handler prints the final report), and then checks that no
 * process of the group is left, escalating to SIGKILL if needed.
 *
 * Signals go out as root, so a pid is trusted only when it is provably ours: the pidfile lives in
 * a directory only root can write to ({@link PROCESS_DIR}, not /tmp where anyone can plant one),
 * and the process must carry this start's random token in its environment (`/proc/PID/environ`
 * is fixed at exec and inherited by the program it execs). A pid that fails either is never
 * signalled.
 */
import { randomUUID } from "node:crypto";
import type { HostSession, RunResult } from "../host";
import { sleep, TIMED_OUT, within } from "./wait";

/** Where pidfiles of remote programs live on a machine: root's own, created 0700. */
export const PROCESS_DIR = "/run/netmap-testbed/processes";

/** The environment variable that marks a process as started by one RemoteProcess. */
const TOKEN_VARIABLE = "NMTB_PROCESS_TOKEN";

/** Waits of {@link RemoteProcess.stop}, in milliseconds. */
export interface StopTimings {
  /** How long the program may take to exit after SIGINT. Defaults to 5000. */
  readonly graceMs?: number;
  /** How long to wait after SIGKILL. Defaults to 3000. */
  readonly killMs?: number;
}

export interface StopOutcome {
  /** The program had already exited when stop was called. */
  readonly alreadyExited: boolean;
  /** SIGKILL was needed. */
  readonly killed: boolean;
  /** No process of the group is left. */
  readonly gone: boolean;
}

/**
 * The script run by `sh -c`: make the pidfile's directory (ours, 0700, not a link), record our pid
 * (= process group id after setsid), then become the program.
 */
const LAUNCH = [
  'd="${0%/*}"',
  'umask 077 && mkdir -p "$d" && [ -d "$d" ] && [ ! -L "$d" ] && [ -O "$d" ] && chmod 700 "$d" ||',
  '  { echo "pidfile directory $d is not ours" >&2; exit 125; }',
  'echo "$$" >"$0" && exec "$@"',
].join("\n");

/** Exits 0 when process $1 carries token $2 in its environment (fixed at exec). */
const HAS_TOKEN = `tr '\\0' '\\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "${TOKEN_VARIABLE}=$2"`;

export class RemoteProcess {
  /** Every output line so far (stdout and stderr, in arrival order). */
  readonly lines: string[];
  /** Settles when the remote command's channel closes (its exit status, or the transport error). */
  readonly done: Promise<RunResult | Error>;
  #exited = false;
  #pid: number | undefined;

  private constructor(
    private readonly session: HostSession,
    private readonly step: string,
    private readonly pidFile: string,
    private readonly token: string,
    run: Promise<RunResult>,
    lines: string[],
  ) {
    this.lines = lines;
    this.done = run.then(
      (result) => result,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    void this.done.then(() => {
      this.#exited = true;
    });
  }

  /**
   * Starts `argv` on the machine behind `session`. `pidName` names its pidfile in
   * {@link PROCESS_DIR} (letters, digits, `._-`). `onLine` receives every output line (stdout and
   * stderr) as it arrives; `lines` keeps them all.
   */
  static start(
    session: HostSession,
    step: string,
    argv: readonly string[],
    pidName: string,
    onLine: (line: string) => void,
  ): RemoteProcess {
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(pidName)) {
      throw new Error(`pidfile name "${pidName}": use letters, digits, '.', '_' and '-' only`);
    }
    const pidFile = `${PROCESS_DIR}/${pidName}`;
    const token = randomUUID();
    const lines: string[] = [];
    const launch = ["env", `${TOKEN_VARIABLE}=${token}`, "setsid", "sh", "-c", LAUNCH, pidFile, ...argv];
    const run = session.run(step, launch, {
      onOutput: (line) => {
        lines.push(line);
        onLine(line);
      },
    });
    return new RemoteProcess(session, step, pidFile, token, run, lines);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * The process group id, read from the pidfile and trusted only once that process shows this
   * start's token (retried while the program starts); undefined when there is no such process.
   */
  async pid(waitMs = 3000): Promise<number | undefined> {
    if (this.#pid !== undefined) return this.#pid;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const result = await this.session.run(`${this.step}:pid`, ["cat", this.pidFile], { timeoutMs: 10_000 });
      const pid = Number(result.stdout.trim());
      if (result.code === 0 && Number.isInteger(pid) && pid > 1 && (await this.#ours(pid))) {
        this.#pid = pid;
        return pid;
      }
      if (Date.now() >= deadline || this.#exited) return undefined;
      await sleep(100);
    }
  }

  /** Process `pid` exists and carries this start's token. */
  async #ours(pid: number): Promise<boolean> {
    const result = await this.session.run(
      `${this.step}:check`,
      ["sh", "-c", HAS_TOKEN, "sh", String(pid), this.token],
      { timeoutMs: 10_000 },
    );
    return result.code === 0;
  }

  /** The group's leader is still our program (pkt-gen forks nothing: the leader is the group). */
  async #groupAlive(pid: number): Promise<boolean> {
    return this.#ours(pid);
  }

  /**
   * Signals the group, checking on the host in the same command that its leader is still ours.
   * bash's kill: dash's takes no `--` before a negative (group) pid.
   */
  async #signal(pid: number, signal: "INT" | "KILL"): Promise<void> {
    await this.session.run(
      `${this.step}:kill`,
      ["bash", "-c", `${HAS_TOKEN} && kill -${signal} -- "-$1"`, "bash", String(pid), this.token],
      { timeoutMs: 10_000 },
    );
  }

  /** Sends SIGINT to the process group (pkt-gen then prints its final report). */
  async interrupt(): Promise<void> {
    const pid = await this.pid();
    if (pid !== undefined && !this.#exited) await this.#signal(pid, "INT");
  }

  /**
   * Stops the program: SIGINT to its process group, a bounded wait for it to exit, SIGKILL if it
   * did not, then a check that no process of the group is left. Removes the pidfile.
   */
  async stop(timings: StopTimings = {}): Promise<StopOutcome> {
    const alreadyExited = this.#exited;
    const pid = await this.pid();
    let killed = false;
    let gone = true;
    if (pid !== undefined) {
      if (!this.#exited) {
        await this.#signal(pid, "INT");
        await within(this.done, timings.graceMs ?? 5000);
      }
      if (await this.#groupAlive(pid)) {
        killed = true;
        await this.#signal(pid, "KILL");
        await within(this.done, timings.killMs ?? 3000);
        const deadline = Date.now() + (timings.killMs ?? 3000);
        while ((gone = !(await this.#groupAlive(pid))) === false && Date.now() < deadline) await sleep(100);
      }
    } else if (!this.#exited) {
      // No pidfile: the launch failed before exec, or the channel is stuck; closing it is all that is left.
      gone = (await within(this.done, timings.graceMs ?? 5000)) !== TIMED_OUT;
    }
    await this.session
      .run(`${this.step}:cleanup`, ["rm", "-f", this.pidFile], { timeoutMs: 10_000 })
      .catch(() => undefined);
    return { alreadyExited, killed, gone };
  }
}
