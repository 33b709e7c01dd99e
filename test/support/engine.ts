/**
 * The real Pulumi engine for tests: the CLI and language host from tools/pulumi-engine.sh, a file
 * backend and a generated passphrase in a temp dir, and a stack of this project's own program
 * (Pulumi.yaml, stacks/index.ts) driven through the Automation API. Each operation's engine
 * output goes to the test log (its `Resources:` summary included), and every SSH connection and
 * command the engine's provider process makes is counted (NMTB_SSH_AUDIT_LOG).
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type OpMap, type Stack } from "@pulumi/pulumi/automation";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** The engine's bin directory, built or downloaded once and cached (tools/pulumi-engine.sh). */
export function engineBinDir(): string {
  return execFileSync("bash", [path.join(PROJECT_ROOT, "tools", "pulumi-engine.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60_000,
  }).trim();
}

/** What one engine operation did: the engine's own change counts, remote work and wall time. */
export interface EngineRun {
  readonly summary: OpMap;
  /** SSH connections and commands the provider made, by host. */
  readonly ssh: Readonly<Record<string, { connections: number; commands: number }>>;
  readonly steps: readonly string[];
  readonly seconds: number;
  readonly output: string;
}

/** The resources an operation changed, by the engine's own change kinds ("same" left out). */
export function changes(run: EngineRun): Record<string, number> {
  return Object.fromEntries(Object.entries(run.summary).filter(([kind]) => kind !== "same"));
}

/** The steps an operation ran on hosts, without their host prefix ("g1/netmap-load" -> "netmap-load"). */
export function stepsRun(run: EngineRun): string[] {
  return run.steps.map(withoutHost);
}

/** A step as the audit log names it, without its host prefix ("g1/netmap-load" -> "netmap-load"). */
function withoutHost(step: string): string {
  return step.replace(/^[^/]+\//, "");
}

/** A `pulumi` run a fault was injected into (EngineStack.faultDuring). */
export interface FaultedRun {
  /** The step (host/step) whose start triggered the fault. */
  readonly faultAfter: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly seconds: number;
  readonly ssh: EngineRun["ssh"];
}

export interface EngineStack {
  readonly stack: Stack;
  readonly name: string;
  /** Where the stack's state lives (file backend), the passphrase and the audit log. */
  readonly stateDir: string;
  readonly env: Readonly<Record<string, string>>;
  preview(): Promise<EngineRun>;
  /** `pulumi up`; `continueOnError` keeps starting steps after one has failed (--continue-on-error). */
  up(options?: { continueOnError?: boolean }): Promise<EngineRun>;
  refresh(): Promise<EngineRun>;
  destroy(): Promise<EngineRun>;
  /**
   * Starts `pulumi up` as its own process group, as a user's terminal would, and SIGKILLs the
   * whole group (CLI, language host, providers) once a command whose step matches `killAt`
   * has started on a host. Resolves when the group is gone.
   */
  killUpDuring(killAt: RegExp): Promise<{ killedAfter: string }>;
  /**
   * Starts `pulumi <operation>` as its own process group and, once a command whose step matches
   * `at` has started on a host, injects `fault` (its argument is the process group's id). Resolves
   * when the CLI has exited, with how it ended and what it printed.
   */
  faultDuring(
    operation: "up" | "destroy",
    at: RegExp,
    fault: (group: number) => Promise<void>,
  ): Promise<FaultedRun>;
  /** Runs the CLI itself with the stack's environment (for commands the Automation API lacks). */
  cli(args: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
  /** The state as the backend stores it (secrets encrypted), the file `pulumi` reads. */
  exportState(): Promise<string>;
  /** Removes the stack, its config file in the checkout and the state dir this call made. */
  dispose(): Promise<void>;
}

/** The SSH connections and commands an audit log (NMTB_SSH_AUDIT_LOG) records; `consume` empties it. */
export function countSsh(auditLog: string, consume = true): { ssh: EngineRun["ssh"]; steps: string[] } {
  const ssh: Record<string, { connections: number; commands: number }> = {};
  const steps: string[] = [];
  const text = fs.existsSync(auditLog) ? fs.readFileSync(auditLog, "utf8") : "";
  if (consume) fs.rmSync(auditLog, { force: true });
  for (const line of text.split("\n")) {
    const [host, kind, step] = line.split("\t");
    if (!host || !kind) continue;
    const entry = (ssh[host] ??= { connections: 0, commands: 0 });
    if (kind === "connection") entry.connections++;
    else {
      entry.commands++;
      steps.push(`${host}/${step}`);
    }
  }
  return { ssh, steps };
}

/**
 * A stack of this project's program in `workDir` (a checkout of the project) with the given
 * config (`netmap-testbed:<key>`; secrets as `{ secret: value }`). `stateDir` lets a second
 * checkout open the same stack.
 */
export async function engineStack(options: {
  name: string;
  config: Record<string, string | { secret: string }>;
  workDir?: string;
  stateDir?: string;
  /** More environment for the engine and the program (e.g. NMTB_ARTIFACT_CACHE_DIR). */
  env?: Record<string, string>;
}): Promise<EngineStack> {
  const workDir = options.workDir ?? PROJECT_ROOT;
  const ownsStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-engine-"));
  fs.chmodSync(stateDir, 0o700);
  const passphraseFile = path.join(stateDir, "passphrase");
  if (!fs.existsSync(passphraseFile)) {
    fs.writeFileSync(passphraseFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  fs.mkdirSync(path.join(stateDir, "backend"), { recursive: true });
  const bin = engineBinDir();
  const auditLog = path.join(stateDir, "ssh-audit.log");
  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${path.join(stateDir, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: fs.readFileSync(passphraseFile, "utf8"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_HOME: path.join(stateDir, "pulumi-home"),
    // `npm test` type-checks the program with tsc before any engine runs; ts-node checking it
    // again costs 2–3 s per operation here, about a minute over the suite.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    NMTB_SSH_AUDIT_LOG: auditLog,
    ...options.env,
  };
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin), skipVersionCheck: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.name, workDir },
    { envVars: env, pulumiCommand },
  );
  for (const [key, value] of Object.entries(options.config)) {
    await stack.setConfig(
      `netmap-testbed:${key}`,
      typeof value === "string" ? { value } : { value: value.secret, secret: true },
    );
  }

  async function timed(
    label: string,
    run: (onOutput: (out: string) => void) => Promise<{ summary?: OpMap }>,
  ): Promise<EngineRun> {
    fs.rmSync(auditLog, { force: true });
    let output = "";
    const started = performance.now();
    process.stdout.write(`\n===== pulumi ${label} (${options.name}, ${workDir}) =====\n`);
    const result = await run((out) => {
      output += out;
      process.stdout.write(out);
    });
    const seconds = (performance.now() - started) / 1000;
    const { ssh, steps } = countSsh(auditLog);
    process.stdout.write(
      `===== pulumi ${label}: ${seconds.toFixed(1)} s; SSH ${JSON.stringify(ssh)} =====\n`,
    );
    return { summary: result.summary ?? {}, ssh, steps, seconds, output };
  }

  function faultDuring(
    operation: "up" | "destroy",
    at: RegExp,
    fault: (group: number) => Promise<void>,
  ): Promise<FaultedRun> {
    fs.rmSync(auditLog, { force: true });
    const started = performance.now();
    process.stdout.write(`\n===== pulumi ${operation}, a fault once a step matching ${at} starts =====\n`);
    const child = spawn(
      path.join(bin, "pulumi"),
      [operation, "--yes", "--skip-preview", "--non-interactive", "--stack", options.name],
      { cwd: workDir, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const onOutput = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      process.stdout.write(chunk);
    };
    child.stdout.on("data", onOutput);
    child.stderr.on("data", onOutput);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("close", (code, signal) => resolve({ code, signal })),
    );
    return new Promise<FaultedRun>((resolve, reject) => {
      const deadline = Date.now() + 10 * 60_000;
      const poll = setInterval(() => {
        const faultAfter = countSsh(auditLog, false).steps.find((step) => at.test(withoutHost(step)));
        if (faultAfter) {
          clearInterval(poll);
          process.stdout.write(`\n===== fault after ${faultAfter} started =====\n`);
          fault(child.pid ?? 0)
            .then(() => exited)
            .then(({ code, signal }) => {
              const seconds = (performance.now() - started) / 1000;
              const { ssh } = countSsh(auditLog);
              process.stdout.write(
                `\n===== pulumi ${operation} ended: ${String(code ?? signal)} after ${seconds.toFixed(1)} s =====\n`,
              );
              resolve({ faultAfter, code, signal, output, seconds, ssh });
            })
            .catch((error: unknown) => {
              // A fault that could not be injected must not leave the run going into the next test.
              if (child.exitCode === null) process.kill(-(child.pid ?? 0), "SIGKILL");
              void exited.then(() => reject(error instanceof Error ? error : new Error(String(error))));
            });
        } else if (Date.now() > deadline || child.exitCode !== null) {
          clearInterval(poll);
          if (child.exitCode === null) process.kill(-(child.pid ?? 0), "SIGKILL");
          reject(
            new Error(`pulumi ${operation} ended (or 10 min passed) before a step matching ${at} started`),
          );
        }
      }, 100);
    });
  }

  return {
    stack,
    name: options.name,
    stateDir,
    env,
    preview: () =>
      timed("preview", async (onOutput) => {
        const r = await stack.preview({ onOutput });
        return { summary: r.changeSummary };
      }),
    up: (upOptions) =>
      timed(upOptions?.continueOnError ? "up --continue-on-error" : "up", async (onOutput) => {
        const r = await stack.up({ onOutput, ...upOptions });
        return { summary: r.summary.resourceChanges };
      }),
    refresh: () =>
      timed("refresh", async (onOutput) => {
        const r = await stack.refresh({ onOutput });
        return { summary: r.summary.resourceChanges };
      }),
    destroy: () =>
      timed("destroy", async (onOutput) => {
        const r = await stack.destroy({ onOutput });
        return { summary: r.summary.resourceChanges };
      }),
    faultDuring,
    killUpDuring: async (killAt) => {
      const run = await faultDuring("up", killAt, async (group) => {
        process.stdout.write("\n===== SIGKILL to the pulumi process group =====\n");
        process.kill(-group, "SIGKILL");
      });
      return { killedAfter: run.faultAfter };
    },
    cli: (args, cliOptions) =>
      new Promise((resolve, reject) => {
        execFile(
          path.join(bin, "pulumi"),
          [...args, "--stack", options.name, "--non-interactive"],
          { cwd: workDir, env: { ...process.env, ...env }, timeout: cliOptions?.timeoutMs ?? 10 * 60_000 },
          (error, stdout, stderr) => {
            process.stdout.write(`\n===== pulumi ${args.join(" ")} =====\n${stdout}${stderr}`);
            if (error) reject(new Error(`pulumi ${args.join(" ")}: ${error.message}\n${stderr}`));
            else resolve(stdout);
          },
        );
      }),
    exportState: async () => {
      const file = path.join(
        stateDir,
        "backend",
        ".pulumi",
        "stacks",
        "netmap-testbed",
        `${options.name}.json`,
      );
      return fs.readFileSync(file, "utf8");
    },
    dispose: async () => {
      await stack.workspace.removeStack(options.name, { force: true }).catch(() => undefined);
      fs.rmSync(path.join(workDir, "stacks", `Pulumi.${options.name}.yaml`), { force: true });
      if (ownsStateDir) fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A second checkout of this project in another directory: the committed files (git), its own
 * compiled runners, the same node_modules. What a colleague's clone, or this one moved, is.
 */
export function secondCheckout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-checkout-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_ROOT,
  })
    .toString("utf8")
    .split("\0")
    .filter((file) => file && fs.existsSync(path.join(PROJECT_ROOT, file)));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(dir, file));
    fs.chmodSync(path.join(dir, file), fs.statSync(path.join(PROJECT_ROOT, file)).mode);
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
  fs.cpSync(path.join(PROJECT_ROOT, "dist"), path.join(dir, "dist"), { recursive: true });
  return dir;
}
