/**
 * A long-running remote command (pkt-gen) that can be stopped for sure. The command runs as the
 * leader of its own session and process group (`setsid`), writes its pid to a pidfile first, then
 * `exec`s the program: stopping it signals the whole group (`kill -INT -- -PGID`), which is how
 * pkt-gen expects to be stopped (its ^C handler prints the final report), and then checks that no
 * process of the group is left, escalating to SIGKILL if needed.
 */
import type { HostSession, RunResult } from "../host";
import { sleep, TIMED_OUT, within } from "./wait";

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

/** The script run by `sh -c`: record our pid (= process group id after setsid), then become the program. */
const LAUNCH = 'echo "$$" >"$0" && exec "$@"';

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
   * Starts `argv` on the machine behind `session`. `onLine` receives every output line (stdout and
   * stderr) as it arrives; `lines` keeps them all.
   */
  static start(
    session: HostSession,
    step: string,
    argv: readonly string[],
    pidFile: string,
    onLine: (line: string) => void,
  ): RemoteProcess {
    const lines: string[] = [];
    const run = session.run(step, ["setsid", "sh", "-c", LAUNCH, pidFile, ...argv], {
      onOutput: (line) => {
        lines.push(line);
        onLine(line);
      },
    });
    return new RemoteProcess(session, step, pidFile, run, lines);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** The process group id, read from the pidfile (retried while the program starts). */
  async pid(waitMs = 3000): Promise<number | undefined> {
    if (this.#pid !== undefined) return this.#pid;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const result = await this.session.run(`${this.step}:pid`, ["cat", this.pidFile], { timeoutMs: 10_000 });
      const pid = Number(result.stdout.trim());
      if (result.code === 0 && Number.isInteger(pid) && pid > 1) {
        this.#pid = pid;
        return pid;
      }
      if (Date.now() >= deadline || this.#exited) return undefined;
      await sleep(100);
    }
  }

  async #groupAlive(pid: number): Promise<boolean> {
    const result = await this.session.run(
      `${this.step}:check`,
      ["sh", "-c", 'kill -0 -- "-$1" 2>/dev/null', "sh", String(pid)],
      { timeoutMs: 10_000 },
    );
    return result.code === 0;
  }

  async #signal(pid: number, signal: "INT" | "KILL"): Promise<void> {
    await this.session.run(`${this.step}:kill`, ["kill", `-${signal}`, "--", `-${pid}`], {
      timeoutMs: 10_000,
    });
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
