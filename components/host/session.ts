/**
 * One SSH connection per host, shared by many commands (one channel each), with a
 * per-host cap on concurrent channels, a pinned host key, bounded connect retries
 * and commands built only from argument vectors.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as fs from "node:fs";
import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";

import { HostConnectionError, HostStepError, type HostConnectionFailure } from "./errors";
import {
  describeKey,
  hostKeyAlgorithmsFor,
  parseOpenSshPublicKey,
  sha256Fingerprint,
  type OpenSshPublicKey,
} from "./host-key";
import { ChannelLimiter } from "./limiter";
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  formatOutputTail,
  LineSplitter,
  OutputCollector,
  TailLines,
} from "./output";
import { SecretScrubber } from "./secrets";
import { buildRemoteCommand } from "./shell-quote";

/**
 * How to authenticate. Pass values from Pulumi secrets (`config.requireSecret(…)` resolved in
 * the provider) or an agent socket; they never appear in messages, logs or `util.inspect` output.
 * At least one of `privateKey`, `password` or `agent` is required.
 */
export interface HostCredentials {
  /** Private key in PEM or OpenSSH format (the file's content, not its path). */
  privateKey?: string;
  /** Passphrase of an encrypted `privateKey`. */
  passphrase?: string;
  /** Password for password authentication. */
  password?: string;
  /** Path of an ssh-agent socket (e.g. `process.env.SSH_AUTH_SOCK`). */
  agent?: string;
}

/** Output stream a line came from. */
export type OutputStream = "stdout" | "stderr";

/**
 * Receives each output line of a step as it arrives (newline stripped, secrets scrubbed).
 * `prefix` is `[host/step]`, ready to print in front of the line.
 */
export type OutputHandler = (line: string, stream: OutputStream, prefix: string) => void;

/** Where and how to connect to one host. */
export interface HostSessionOptions {
  /** Host name from the topology; used in every message and as the pool key. */
  name: string;
  /** IP address or DNS name to connect to. */
  address: string;
  /** SSH port. Defaults to 22. */
  port?: number;
  /** Login user. Defaults to `root`. */
  user?: string;
  /**
   * The host's pinned public key, one OpenSSH line (`ssh-ed25519 AAAA… [comment]`). Required:
   * a missing or different key refuses the connection (no trust on first use). See docs/ssh.md.
   */
  hostKey?: string;
  /** How to authenticate; see {@link HostCredentials}. */
  credentials: HostCredentials;
  /** Most channels (commands, sftp sessions) open at once on the connection. Defaults to 8 (sshd's `MaxSessions` is 10). */
  maxChannels?: number;
  /**
   * Total time allowed to establish the connection, in milliseconds, across all attempts
   * (each attempt's ssh2 `readyTimeout` is the time left). Defaults to 10000 (10 s).
   */
  connectTimeoutMs?: number;
  /** Connection attempts for network errors (host key and authentication failures are never retried). Defaults to 3. */
  connectAttempts?: number;
  /** Pause before the first retry in milliseconds; doubles for each further retry. Defaults to 250. */
  retryBackoffMs?: number;
  /** SSH keepalive interval in milliseconds (0 disables); 3 missed replies drop the connection. Defaults to 15000. */
  keepaliveIntervalMs?: number;
  /** Run every command through `sudo -n --` unless the user is `root`. Defaults to false. */
  sudo?: boolean;
  /** Print progress (connects, every output line with its `[host/step]` prefix) through `log`. Defaults to false. */
  verbose?: boolean;
  /** Where verbose progress goes. Defaults to writing the line to stderr. */
  log?: (line: string) => void;
  /** Bytes of stdout and of stderr kept per command; the rest is dropped behind a marker. Defaults to 64 MiB. */
  maxOutputBytes?: number;
  /** Lines of combined output quoted in a failed step's error. Defaults to 20. */
  errorTailLines?: number;
}

/** Per-command options of {@link HostSession.run}. */
export interface RunOptions {
  /** Environment variables, passed as an `env NAME=value` prefix; names must match `[A-Za-z_][A-Za-z0-9_]*`. Defaults to none. */
  env?: Readonly<Record<string, string>>;
  /** Data written to the command's stdin, followed by end-of-file. Defaults to an empty stdin (EOF at once). */
  stdin?: string | Buffer;
  /** Overrides the session's `sudo` for this command. */
  sudo?: boolean;
  /** Kill the command and fail after this many milliseconds. Defaults to no limit. */
  timeoutMs?: number;
  /** Receives each output line as it arrives. Defaults to the session's verbose logger (silent unless `verbose`). */
  onOutput?: OutputHandler;
}

/** What a command left behind. */
export interface RunResult {
  /** Exit code, or null when the command was killed by a signal. */
  code: number | null;
  /** Signal name (without `SIG`) if the command was killed by one. */
  signal?: string;
  /** Standard output decoded as UTF-8. */
  stdout: string;
  /** Standard error decoded as UTF-8. */
  stderr: string;
  /** Standard output, byte-exact (up to `maxOutputBytes`, then a truncation marker). */
  stdoutBytes: Buffer;
  /** Standard error, byte-exact (up to `maxOutputBytes`, then a truncation marker). */
  stderrBytes: Buffer;
  /** True if either stream exceeded `maxOutputBytes`. */
  truncated: boolean;
  /** Wall time of the command in milliseconds, from channel open to close. */
  durationMs: number;
}

interface ResolvedOptions {
  name: string;
  address: string;
  port: number;
  user: string;
  maxChannels: number;
  connectTimeoutMs: number;
  connectAttempts: number;
  retryBackoffMs: number;
  keepaliveIntervalMs: number;
  sudo: boolean;
  verbose: boolean;
  log: (line: string) => void;
  maxOutputBytes: number;
  errorTailLines: number;
}

/** Thrown by a single attempt; `final` failures are not retried. */
class AttemptError extends Error {
  constructor(
    readonly failure: HostConnectionFailure,
    message: string,
    readonly final: boolean,
  ) {
    super(message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits `ms`, or less when `signal` aborts first. */
function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

const connectAbortScope = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `work` so that every connection a session starts inside it (directly or through layers
 * that create sessions themselves, such as the playbook runner's machines) is abandoned as soon
 * as `signal` aborts, instead of running out its connect timeout: Ctrl-C while a host does not
 * answer must not wait 15 s. Connections started outside (e.g. to clean up after the abort) are
 * not affected.
 */
export function abandonConnectsOnAbort<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return connectAbortScope.run(signal, work);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/**
 * With `NMTB_SSH_AUDIT_LOG` set (tests and benchmarks, e.g. counting the remote work of a no-op
 * `pulumi up` in the engine's provider process), one line per connection and per command:
 * `host<TAB>connection|command<TAB>step`. Names only, never commands or their output.
 */
function audit(host: string, kind: "connection" | "command", step: string): void {
  const file = process.env.NMTB_SSH_AUDIT_LOG;
  if (file) fs.appendFileSync(file, `${host}\t${kind}\t${step}\n`);
}

/**
 * An SSH session to one host: one ssh2 connection (opened on first use, reopened if it drops),
 * many commands over channels, at most `maxChannels` at once.
 */
export class HostSession {
  /** Host name from the topology. */
  readonly name: string;
  readonly #options: ResolvedOptions;
  readonly #credentials: HostCredentials;
  readonly #scrubber: SecretScrubber;
  readonly #limiter: ChannelLimiter;
  readonly #pinned: OpenSshPublicKey | undefined;
  readonly #pinnedError: string | undefined;
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #closed = false;
  #connections = 0;

  constructor(options: HostSessionOptions) {
    const credentials = options.credentials ?? {};
    this.#credentials = { ...credentials };
    this.#scrubber = new SecretScrubber([
      credentials.privateKey,
      credentials.passphrase,
      credentials.password,
    ]);
    this.name = options.name;
    this.#options = {
      name: options.name,
      address: options.address,
      port: options.port ?? 22,
      user: options.user ?? "root",
      maxChannels: options.maxChannels ?? 8,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      connectAttempts: Math.max(1, options.connectAttempts ?? 3),
      retryBackoffMs: options.retryBackoffMs ?? 250,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15_000,
      sudo: options.sudo ?? false,
      verbose: options.verbose ?? false,
      log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      errorTailLines: options.errorTailLines ?? 20,
    };
    this.#limiter = new ChannelLimiter(this.#options.maxChannels);
    if (options.hostKey !== undefined && options.hostKey.trim() !== "") {
      try {
        this.#pinned = parseOpenSshPublicKey(options.hostKey);
      } catch (error) {
        this.#pinnedError = errorText(error);
      }
    }
  }

  /** Address, port and user this session connects to. */
  get target(): { address: string; port: number; user: string } {
    return { address: this.#options.address, port: this.#options.port, user: this.#options.user };
  }

  /** The pinned host key's fingerprint (`SHA256:…`), or undefined if none is pinned. */
  get pinnedFingerprint(): string | undefined {
    return this.#pinned ? sha256Fingerprint(this.#pinned.blob) : undefined;
  }

  /** Channel cap and the highest number of channels seen open at once (for tests and diagnostics). */
  get channelStats(): { limit: number; active: number; maxObserved: number; connections: number } {
    return {
      limit: this.#limiter.limit,
      active: this.#limiter.active,
      maxObserved: this.#limiter.maxObserved,
      connections: this.#connections,
    };
  }

  /** Opens the connection now (otherwise the first command does). */
  async connect(): Promise<void> {
    await this.#getClient();
  }

  /**
   * Runs `argv` on the host. The remote command line is built only from `argv` by POSIX quoting,
   * so values arrive byte-exact and are never parsed as shell syntax. Resolves with the exit code
   * whatever it is; see {@link runChecked} to fail on a non-zero code.
   * @param step names the step in output prefixes and errors (`[host/step]`)
   */
  async run(step: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const useSudo = (options.sudo ?? this.#options.sudo) && this.#options.user !== "root";
    const command = buildRemoteCommand(argv, { env: options.env, sudo: useSudo });
    const { result } = await this.#run(step, command, options);
    return result;
  }

  async #run(
    step: string,
    command: string,
    options: RunOptions,
  ): Promise<{ result: RunResult; tail: TailLines }> {
    return this.#limiter.run(async () => {
      const client = await this.#getClient();
      audit(this.#options.name, "command", step);
      return this.#exec(client, step, command, options);
    });
  }

  /** Like {@link run}, but throws {@link HostStepError} (host, step, exit code, output tail) unless the exit code is 0. */
  async runChecked(step: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const useSudo = (options.sudo ?? this.#options.sudo) && this.#options.user !== "root";
    const command = buildRemoteCommand(argv, { env: options.env, sudo: useSudo });
    const { result, tail } = await this.#run(step, command, options);
    if (result.code !== 0) {
      throw new HostStepError({
        host: this.name,
        step,
        code: result.code,
        ...(result.signal !== undefined ? { signal: result.signal } : {}),
        tail: tail.lines,
      });
    }
    return result;
  }

  /**
   * Runs a local script on the host by piping it to `bash -s -- args…` (nothing is copied to the host).
   * The script's stdin is the script itself, so it must not read stdin.
   */
  async runScript(
    step: string,
    scriptPath: string,
    args: readonly string[] = [],
    options: Omit<RunOptions, "stdin"> = {},
  ): Promise<RunResult> {
    const script = await readFile(scriptPath);
    return this.run(step, ["bash", "-s", "--", ...args], { ...options, stdin: script });
  }

  /** Like {@link runScript}, but throws {@link HostStepError} unless the exit code is 0. */
  async runScriptChecked(
    step: string,
    scriptPath: string,
    args: readonly string[] = [],
    options: Omit<RunOptions, "stdin"> = {},
  ): Promise<RunResult> {
    const script = await readFile(scriptPath);
    return this.runChecked(step, ["bash", "-s", "--", ...args], { ...options, stdin: script });
  }

  /**
   * Copies a local file (path) or buffer to `remotePath` over SFTP, atomically: it is written to a
   * temporary name beside the target, given `mode`, then renamed over the target.
   * @param mode permission bits of the remote file. Defaults to 0o644.
   */
  async sftpPut(source: Buffer | string, remotePath: string, mode = 0o644): Promise<void> {
    const data = typeof source === "string" ? await readFile(source) : source;
    const step = `sftp put ${remotePath}`;
    await this.#limiter.run(async () => {
      const client = await this.#getClient();
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((error, wrapper) => (error ? reject(this.#stepError(step, error)) : resolve(wrapper))),
      );
      const temporary = `${remotePath}.nmtb-${process.pid}-${Date.now().toString(36)}`;
      try {
        await new Promise<void>((resolve, reject) => {
          const stream = sftp.createWriteStream(temporary, { flags: "w", mode });
          stream.on("error", (error: Error) => reject(this.#stepError(step, error)));
          stream.on("close", () => resolve());
          stream.end(data);
        });
        await new Promise<void>((resolve, reject) =>
          sftp.chmod(temporary, mode, (error) => (error ? reject(this.#stepError(step, error)) : resolve())),
        );
        await new Promise<void>((resolve, reject) =>
          sftp.ext_openssh_rename(temporary, remotePath, (error) =>
            error ? reject(this.#stepError(step, error)) : resolve(),
          ),
        );
      } catch (error) {
        await new Promise<void>((resolve) => sftp.unlink(temporary, () => resolve()));
        throw error;
      } finally {
        sftp.end();
      }
    });
  }

  /** Closes the connection; later commands fail. Safe to call more than once. */
  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    if (!client) {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.destroy();
        resolve();
      }, 2000);
      client.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }

  /** Safe summary for logs: never includes credentials. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      address: this.#options.address,
      port: this.#options.port,
      user: this.#options.user,
      hostKey: this.pinnedFingerprint ?? null,
      connected: this.#client !== undefined,
    };
  }

  [inspect.custom](): string {
    return `HostSession ${JSON.stringify(this.toJSON())}`;
  }

  #prefix(step: string): string {
    return `[${this.name}/${step}]`;
  }

  #progress(message: string): void {
    if (this.#options.verbose) {
      this.#options.log(this.#scrubber.scrub(message));
    }
  }

  #stepError(step: string, error: unknown): HostStepError {
    return new HostStepError({
      host: this.name,
      step,
      code: null,
      tail: [],
      detail: this.#scrubber.scrub(errorText(error)),
    });
  }

  async #getClient(): Promise<Client> {
    if (this.#closed) {
      throw new HostConnectionError(this.name, "closed", `host ${this.name}: the session is closed`);
    }
    if (this.#client) {
      return this.#client;
    }
    if (!this.#connecting) {
      this.#connecting = this.#connectWithRetries().finally(() => {
        this.#connecting = undefined;
      });
    }
    return this.#connecting;
  }

  #describeTarget(): string {
    const { name, user, address, port } = this.#options;
    return `host ${name} (${user}@${address}:${port})`;
  }

  async #connectWithRetries(): Promise<Client> {
    const { connectTimeoutMs, connectAttempts, retryBackoffMs } = this.#options;
    const credentials = this.#credentials;
    if (!credentials.privateKey && !credentials.password && !credentials.agent) {
      throw new HostConnectionError(
        this.name,
        "no-credentials",
        `${this.#describeTarget()}: no credentials; give a privateKey, a password or an agent socket`,
      );
    }
    if (this.#pinnedError !== undefined) {
      throw new HostConnectionError(
        this.name,
        "host-key-invalid",
        `${this.#describeTarget()}: the pinned hostKey is not a valid OpenSSH public key line: ${this.#pinnedError}`,
      );
    }
    const abort = connectAbortScope.getStore();
    const started = Date.now();
    const deadline = started + connectTimeoutMs;
    let lastError: AttemptError | undefined;
    let attempt = 0;
    while (attempt < connectAttempts) {
      if (abort?.aborted) {
        throw new HostConnectionError(
          this.name,
          "closed",
          `${this.#describeTarget()}: connection abandoned: interrupted`,
          attempt,
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        break;
      }
      attempt += 1;
      try {
        this.#progress(`${this.#prefix("connect")} attempt ${attempt}/${connectAttempts}`);
        const client = await this.#connectOnce(remaining, abort);
        this.#connections += 1;
        audit(this.#options.name, "connection", "connect");
        return client;
      } catch (error) {
        const attemptError =
          error instanceof AttemptError ? error : new AttemptError("unreachable", errorText(error), false);
        if (attemptError.final) {
          throw new HostConnectionError(
            this.name,
            attemptError.failure,
            this.#scrubber.scrub(`${this.#describeTarget()}: ${attemptError.message}`),
            attempt,
          );
        }
        lastError = attemptError;
        this.#progress(`${this.#prefix("connect")} attempt ${attempt} failed: ${attemptError.message}`);
        const backoff = retryBackoffMs * 2 ** (attempt - 1);
        if (attempt < connectAttempts && Date.now() + backoff < deadline) {
          await sleepUnlessAborted(backoff, abort);
        } else if (attempt < connectAttempts) {
          break;
        }
      }
    }
    const elapsed = Date.now() - started;
    throw new HostConnectionError(
      this.name,
      "unreachable",
      this.#scrubber.scrub(
        `${this.#describeTarget()}: unreachable: no SSH connection after ${attempt} attempt(s) in ${elapsed} ms ` +
          `(connect timeout ${connectTimeoutMs} ms): ${lastError?.message ?? "no time left for an attempt"}`,
      ),
      attempt,
    );
  }

  #connectOnce(timeoutMs: number, abort: AbortSignal | undefined): Promise<Client> {
    const { address, port, user, keepaliveIntervalMs } = this.#options;
    const pinned = this.#pinned;
    const credentials = this.#credentials;
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: Buffer | undefined;
      let settled = false;
      const settle = (error: AttemptError | undefined): void => {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(guard);
        abort?.removeEventListener("abort", onAbort);
        if (error) {
          client.removeAllListeners("ready");
          client.on("error", () => undefined);
          client.destroy();
          reject(error);
          return;
        }
        resolve(client);
      };
      // ssh2's readyTimeout covers TCP connect, key exchange and authentication; this guard only
      // catches a stall that ssh2 itself does not report.
      const guard = setTimeout(
        () => settle(new AttemptError("unreachable", `timed out after ${timeoutMs} ms`, false)),
        timeoutMs + 1000,
      );
      const onAbort = (): void =>
        settle(new AttemptError("closed", "connection abandoned: interrupted", true));
      abort?.addEventListener("abort", onAbort, { once: true });
      const hostKeyError = (): AttemptError => {
        const seen = presented ? describeKey(presented) : "(no key received)";
        if (!pinned) {
          return new AttemptError(
            "host-key-missing",
            `refusing to connect: no pinned hostKey for this host (pinned: none, presented: ${seen}); ` +
              `verify the key out of band (docs/ssh.md) and pin it`,
            true,
          );
        }
        return new AttemptError(
          "host-key-mismatch",
          `refusing to connect: host key mismatch (pinned: ${describeKey(pinned.blob)}, presented: ${seen}); ` +
            `the host was reinstalled or someone is intercepting the connection; verify out of band before re-pinning`,
          true,
        );
      };
      let hostKeyRejected = false;
      client.on("ready", () => {
        client.removeAllListeners("error");
        client.on("error", (error: Error) => {
          this.#progress(`${this.#prefix("connection")} error: ${errorText(error)}`);
        });
        client.on("close", () => {
          if (this.#client === client) {
            this.#client = undefined;
          }
        });
        this.#client = client;
        settle(undefined);
      });
      client.on("error", (error: Error & { level?: string }) => {
        if (hostKeyRejected) {
          settle(hostKeyError());
        } else if (error.level === "client-authentication") {
          settle(
            new AttemptError(
              "auth",
              `authentication as ${user} failed (${errorText(error)}); check the credentials and the host's authorized_keys`,
              true,
            ),
          );
        } else if (error.level === "client-timeout") {
          settle(new AttemptError("unreachable", `no SSH handshake within ${timeoutMs} ms`, false));
        } else {
          settle(new AttemptError("unreachable", errorText(error), false));
        }
      });
      client.on("close", () => {
        settle(
          hostKeyRejected
            ? hostKeyError()
            : new AttemptError("unreachable", "connection closed before it was ready", false),
        );
      });
      const config: ConnectConfig = {
        host: address,
        port,
        username: user,
        readyTimeout: Math.max(1, Math.floor(timeoutMs)),
        keepaliveInterval: keepaliveIntervalMs,
        keepaliveCountMax: 3,
        // hostHash is left unset so the verifier receives the raw key blob.
        hostVerifier: (key: Buffer): boolean => {
          presented = Buffer.from(key);
          const accepted = pinned !== undefined && presented.equals(pinned.blob);
          hostKeyRejected = !accepted;
          return accepted;
        },
        ...(pinned ? { algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.type) } } : {}),
        ...(credentials.privateKey !== undefined ? { privateKey: credentials.privateKey } : {}),
        ...(credentials.passphrase !== undefined ? { passphrase: credentials.passphrase } : {}),
        ...(credentials.password !== undefined ? { password: credentials.password } : {}),
        ...(credentials.agent !== undefined ? { agent: credentials.agent } : {}),
      };
      try {
        client.connect(config);
      } catch (error) {
        // ssh2 throws synchronously for an unparsable private key; its text must not leak the key.
        settle(
          new AttemptError("auth", `invalid credentials: ${this.#scrubber.scrub(errorText(error))}`, true),
        );
      }
    });
  }

  #exec(
    client: Client,
    step: string,
    command: string,
    options: RunOptions,
  ): Promise<{ result: RunResult; tail: TailLines }> {
    const prefix = this.#prefix(step);
    const tail = new TailLines(this.#options.errorTailLines);
    const handler: OutputHandler =
      options.onOutput ??
      ((line, _stream, linePrefix) => {
        if (this.#options.verbose) {
          this.#options.log(`${linePrefix} ${line}`);
        }
      });
    const emit =
      (stream: OutputStream) =>
      (line: string): void => {
        const clean = this.#scrubber.scrub(line);
        tail.push(clean);
        handler(clean, stream, prefix);
      };
    return new Promise<{ result: RunResult; tail: TailLines }>((resolve, reject) => {
      const started = Date.now();
      client.exec(command, (error, channel: ClientChannel) => {
        if (error) {
          reject(this.#stepError(step, `could not open a channel: ${errorText(error)}`));
          return;
        }
        const stdout = new OutputCollector(this.#options.maxOutputBytes);
        const stderr = new OutputCollector(this.#options.maxOutputBytes);
        const stdoutLines = new LineSplitter(emit("stdout"));
        const stderrLines = new LineSplitter(emit("stderr"));
        let code: number | null = null;
        let signal: string | undefined;
        let sawExit = false;
        let timer: NodeJS.Timeout | undefined;
        let timedOut = false;
        channel.on("data", (chunk: Buffer) => {
          stdout.push(chunk);
          stdoutLines.push(chunk);
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr.push(chunk);
          stderrLines.push(chunk);
        });
        channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
          sawExit = true;
          code = typeof exitCode === "number" ? exitCode : null;
          signal = exitSignal ?? undefined;
        });
        channel.on("close", () => {
          if (timer) {
            clearTimeout(timer);
          }
          stdoutLines.end();
          stderrLines.end();
          if (timedOut) {
            return;
          }
          if (!sawExit) {
            reject(
              new HostConnectionError(
                this.name,
                "connection-lost",
                // What the step printed before the connection went is often all there is to go on.
                `host ${this.name}: step "${step}" ended without an exit status (connection lost?)\n` +
                  `last ${tail.lines.length} line(s) of output:\n${formatOutputTail(tail.lines)}`,
              ),
            );
            return;
          }
          const stdoutBytes = stdout.toBuffer();
          const stderrBytes = stderr.toBuffer();
          const result: RunResult = {
            code,
            ...(signal !== undefined ? { signal } : {}),
            stdout: stdoutBytes.toString("utf8"),
            stderr: stderrBytes.toString("utf8"),
            stdoutBytes,
            stderrBytes,
            truncated: stdout.droppedBytes > 0 || stderr.droppedBytes > 0,
            durationMs: Date.now() - started,
          };
          resolve({ result, tail });
        });
        if (options.timeoutMs !== undefined) {
          const timeoutMs = options.timeoutMs;
          timer = setTimeout(() => {
            timedOut = true;
            try {
              channel.signal("KILL");
            } catch {
              // The server may not support signals; closing the channel still ends the wait.
            }
            channel.close();
            reject(
              new HostStepError({
                host: this.name,
                step,
                code: null,
                timedOutAfterMs: timeoutMs,
                tail: tail.lines,
              }),
            );
          }, timeoutMs);
        }
        channel.end(options.stdin ?? undefined);
      });
    });
  }
}
