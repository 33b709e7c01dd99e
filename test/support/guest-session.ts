/**
 * Commands on a Debian guest host (test/fixtures/guest-host.ts) for integration tests, over the
 * project's own ssh2 host session (components/host): the guest's generated ed25519 host key
 * pinned, commands given as argument vectors. A failed command's error names it and quotes its
 * stdout, its stderr and the tail of the guest's serial console.
 *
 *     const guest = await GuestSession.open(host, { commandTimeoutMs: 120_000 });
 *     expect((await guest.ok(["uname", "-r"])).trim()).toBe(release);
 *     await guest.close();
 */
import { posix } from "node:path";

import { HostSession, HostStepError, buildRemoteCommand, type RunResult } from "../../components/host";
import type { GuestHost } from "../fixtures/guest-host";

/** Options of {@link GuestSession.open}. */
export interface GuestSessionOptions {
  /** Bound on each command unless it gives its own `timeoutMs`, in milliseconds. */
  commandTimeoutMs: number;
  /** Host key line to pin (must be ssh-ed25519). Defaults to the host's own key. */
  hostKey?: string;
  /** Bound on establishing the connection, in milliseconds. Defaults to 30000. */
  connectTimeoutMs?: number;
}

/** Per-command options of {@link GuestSession.run} and {@link GuestSession.ok}. */
export interface GuestRunOptions {
  /** Data written to the command's stdin, then end-of-file. Defaults to an empty stdin. */
  stdin?: string | Buffer;
  /** Bound on this command, in milliseconds. Defaults to the session's `commandTimeoutMs`. */
  timeoutMs?: number;
}

/** What {@link explainFailure} quotes from a finished command. */
export type CommandOutcome = Pick<RunResult, "code" | "stdout" | "stderr">;

/**
 * The message for a command that exited non-zero: what ran, its exit code, the tails of its
 * stdout and stderr, and the tail of the guest's serial console.
 */
export function explainFailure(host: GuestHost, what: string, result: CommandOutcome): string {
  return (
    `${host.name}: '${what}' exited ${String(result.code)}\n` +
    `stdout:\n${result.stdout.slice(-3000)}\nstderr:\n${result.stderr.slice(-4000)}\n` +
    `--- console tail of ${host.name} ---\n${host.consoleTail(30)}`
  );
}

/** The last line of `stdout` that starts with `{`, parsed as JSON (the host scripts' result object). */
export function lastJson<T>(stdout: string): T {
  const line = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .pop();
  if (!line) throw new Error(`no JSON on stdout:\n${stdout}`);
  return JSON.parse(line) as T;
}

/** An open SSH session to one guest host. */
export class GuestSession {
  private constructor(
    readonly host: GuestHost,
    readonly ssh: HostSession,
    private readonly commandTimeoutMs: number,
  ) {}

  /**
   * Connects to `host` as its user with its client key, pinning `hostKey` (by default the host's
   * own): a different key presented by the host rejects with a HostConnectionError.
   */
  static async open(host: GuestHost, options: GuestSessionOptions): Promise<GuestSession> {
    const hostKey = options.hostKey ?? host.hostKey;
    if (!/^ssh-ed25519\s+\S+/.test(hostKey.trim())) {
      throw new Error(`${host.name}: not an ed25519 host key: ${hostKey}`);
    }
    const ssh = new HostSession({
      name: host.name,
      address: host.address,
      port: host.port,
      user: host.user,
      hostKey,
      credentials: { privateKey: host.privateKey },
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      // One attempt per open, no keepalive: every command carries its own bound instead.
      connectAttempts: 1,
      keepaliveIntervalMs: 0,
    });
    try {
      await ssh.connect();
    } catch (error) {
      await ssh.close();
      throw error;
    }
    return new GuestSession(host, ssh, options.commandTimeoutMs);
  }

  /**
   * Runs `argv` and resolves with its result whatever the exit code. A command that outlives its
   * bound rejects with the session's timeout error plus the console tail.
   */
  async run(argv: readonly string[], options: GuestRunOptions = {}): Promise<RunResult> {
    const step = argv.length > 0 ? posix.basename(argv[0]!) : "command";
    try {
      return await this.ssh.run(step, argv, {
        ...(options.stdin !== undefined ? { stdin: options.stdin } : {}),
        timeoutMs: options.timeoutMs ?? this.commandTimeoutMs,
      });
    } catch (error) {
      if (error instanceof HostStepError) {
        throw new Error(
          `${error.message}\n--- console tail of ${this.host.name} ---\n${this.host.consoleTail(30)}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /** Runs `argv`; resolves with its stdout, or fails with {@link explainFailure} unless it exits 0. */
  async ok(argv: readonly string[], options: GuestRunOptions = {}): Promise<string> {
    const result = await this.run(argv, options);
    if (result.code !== 0) throw new Error(explainFailure(this.host, buildRemoteCommand(argv), result));
    return result.stdout;
  }

  /** Closes the connection. Safe to call more than once. */
  close(): Promise<void> {
    return this.ssh.close();
  }
}
