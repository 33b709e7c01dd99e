import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { HostConnectionError } from "../host/errors";
import { HostSessionPool } from "../host/pool";
import type { HostCredentials, HostSessionOptions } from "../host/session";
import { planTestbed, type HostPlan, type TestbedPlan } from "../plan";
import { stageModelSources } from "../pulumi/controller-source";
import { packageRoot } from "../pulumi/package-root";
import {
  computeDrift,
  readHostStatus,
  renderStatusText,
  statusExitCode,
  statusToJson,
  type HostStatusReport,
} from "../status";
import { checkTopology, formatIssue } from "../topology";
import type { CliIo } from "./main";

const USAGE = `usage: netmap-testbed status TOPOLOGY.yaml|STACK [--json] [--identity FILE] [--host NAME]...
                             [--lab-state DIR] [--connect-timeout SECONDS]

Reads back what is really on each host (modules, netmap parameters, NIC drivers, VALE ports, VMs
and their QEMU argv, builds) over one SSH connection per host, all hosts at once, and prints the
drift against the topology: missing, extra, different.

  STACK               a stack name: its stacks/Pulumi.STACK.yaml names the topology (netmap-testbed:topology)
  --json              print {"topology","hosts":[{"name","reachable","error"?,"observed","drift"}]}
  --identity FILE     SSH private key (default: the agent at $SSH_AUTH_SOCK; lab hosts: their own key)
  --host NAME         only this host (repeatable)
  --lab-state DIR     where localLab hosts keep their state (boot-host.sh's host.json): one host's
                      state dir or the lab root (default with a STACK: ~/.cache/netmap-testbed/lab)
  --connect-timeout S seconds to get an SSH connection to a host (default 10)

exit: 0 no drift, 1 drift or a host unreachable/unreadable, 2 usage`;

/** Hooks for tests; the command itself needs none. */
export interface StatusCommandOptions {
  /** Environment for status.sh on a host (NMTB_* overrides pointing at fake trees). Defaults to none. */
  readonly scriptEnv?: (host: string) => Readonly<Record<string, string>> | undefined;
  /** Local status script to pipe to the hosts. Defaults to this package's kernel-builds/host/status.sh. */
  readonly scriptPath?: string;
  /** Process environment (SSH_AUTH_SOCK). Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where a stack name is looked up (the nearest Pulumi.yaml above it). Defaults to process.cwd(). */
  readonly cwd?: string;
  /** Home directory for the default lab state root. Defaults to os.homedir(). */
  readonly home?: string;
}

interface ParsedArgs {
  target: string;
  json: boolean;
  identity?: string;
  hosts: string[];
  labState?: string;
  connectTimeoutMs: number;
}

class UsageError extends Error {}

function parseArgs(args: readonly string[]): ParsedArgs | "help" {
  const positional: string[] = [];
  const parsed: Omit<ParsedArgs, "target"> = { json: false, hosts: [], connectTimeoutMs: 10_000 };
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--json") {
      parsed.json = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const takesValue = ["--identity", "--host", "--lab-state", "--connect-timeout"].includes(flag);
    if (!takesValue) {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
      positional.push(arg);
      continue;
    }
    let value: string | undefined;
    if (flag !== arg) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      i += 1;
    }
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case "--identity":
        parsed.identity = value;
        break;
      case "--host":
        parsed.hosts.push(value);
        break;
      case "--lab-state":
        parsed.labState = value;
        break;
      case "--connect-timeout": {
        const seconds = Number(value);
        if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
          throw new UsageError(`--connect-timeout ${value}: give seconds between 0 and 600`);
        }
        parsed.connectTimeoutMs = Math.round(seconds * 1000);
        break;
      }
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0 ? "give a topology file or a stack" : "give one topology or stack",
    );
  }
  return { ...parsed, target: positional[0] };
}

/** The nearest directory at or above `start` with a Pulumi.yaml, else this package's root. */
function projectDir(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return packageRoot();
    dir = parent;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A topology file, or the topology a stack's config names. */
function resolveTarget(target: string, cwd: string): { file: string; stack?: string } {
  const direct = path.resolve(cwd, target);
  if (fs.existsSync(direct) && fs.statSync(direct).isFile()) return { file: direct };
  if (/\.ya?ml$/i.test(target) || target.includes("/") || !/^[A-Za-z0-9_.-]+$/.test(target)) {
    throw new UsageError(`${target}: no such topology file`);
  }
  const project = projectDir(cwd);
  const projectConfig = asRecord(parseYaml(fs.readFileSync(path.join(project, "Pulumi.yaml"), "utf8")));
  const configDir = typeof projectConfig?.stackConfigDir === "string" ? projectConfig.stackConfigDir : ".";
  const stackFile = path.join(project, configDir, `Pulumi.${target}.yaml`);
  if (!fs.existsSync(stackFile)) {
    throw new UsageError(`${target}: neither a topology file nor a stack (no ${stackFile})`);
  }
  const config = asRecord(asRecord(parseYaml(fs.readFileSync(stackFile, "utf8")))?.config);
  const topology = config?.["netmap-testbed:topology"];
  if (typeof topology !== "string" || topology === "") {
    throw new UsageError(`${stackFile}: no netmap-testbed:topology in its config`);
  }
  return { file: path.resolve(project, topology), stack: target };
}

/** What boot-host.sh records in a lab host's state dir (host.json). */
interface LabEndpoint {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
  readonly privateKeyPath: string | null;
  readonly file: string;
}

function readLabHostJson(file: string): (LabEndpoint & { name: string }) | undefined {
  let data: Record<string, unknown> | undefined;
  try {
    data = asRecord(JSON.parse(fs.readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
  if (
    !data ||
    typeof data.sshPort !== "number" ||
    typeof data.hostKey !== "string" ||
    typeof data.address !== "string"
  ) {
    return undefined;
  }
  return {
    name: typeof data.name === "string" ? data.name : "",
    address: data.address,
    port: data.sshPort,
    user: typeof data.user === "string" ? data.user : "root",
    hostKey: data.hostKey,
    privateKeyPath: typeof data.privateKeyPath === "string" ? data.privateKeyPath : null,
    file,
  };
}

/**
 * A booted lab host's endpoint. LocalLabHost names its state dir `STACK-HOST` under the lab root;
 * `--lab-state` may be that root or one host's state dir.
 */
function findLabHost(
  host: string,
  labState: string | undefined,
  stack: string | undefined,
  home: string,
  labHostCount: number,
): LabEndpoint | string {
  const root = labState ?? (stack ? path.join(home, ".cache", "netmap-testbed", "lab") : undefined);
  if (root === undefined) {
    return (
      `host ${host} is a localLab host: its SSH port and host key exist only once it is booted; ` +
      `pass --lab-state DIR (the lab root ~/.cache/netmap-testbed/lab or the host's state dir, where ` +
      `kernel-builds/lab/boot-host.sh writes host.json), or name the stack instead of the topology file`
    );
  }
  const own = readLabHostJson(path.join(root, "host.json"));
  if (own && (own.name === host || own.name.endsWith(`-${host}`) || labHostCount === 1)) return own;
  const candidates = [path.join(root, host, "host.json")];
  if (stack) candidates.push(path.join(root, `${stack}-${host}`, "host.json"));
  for (const file of candidates) {
    const found = readLabHostJson(file);
    if (found) return found;
  }
  if (!stack) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root).filter((entry) => entry.endsWith(`-${host}`));
    } catch {
      entries = [];
    }
    const found = entries
      .map((entry) => readLabHostJson(path.join(root, entry, "host.json")))
      .filter((entry): entry is LabEndpoint & { name: string } => entry !== undefined);
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      return `host ${host}: several lab hosts under ${root} match (${found.map((f) => f.file).join(", ")}); pass that host's state dir with --lab-state`;
    }
  }
  return `host ${host} is a localLab host and no booted lab host was found under ${root} (no host.json${stack ? ` in ${stack}-${host}/` : ""}): boot it (npx pulumi up) or pass --lab-state DIR`;
}

function credentialsFor(
  identity: string | undefined,
  agent: string | undefined,
  labKeyPath: string | null,
): HostCredentials | undefined {
  const credentials: HostCredentials = {};
  if (identity !== undefined) {
    credentials.privateKey = identity;
  } else if (labKeyPath !== null) {
    try {
      credentials.privateKey = fs.readFileSync(labKeyPath, "utf8");
    } catch {
      // Fall back to the agent below.
    }
  }
  if (agent) credentials.agent = agent;
  return credentials.privateKey === undefined && credentials.agent === undefined ? undefined : credentials;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `status TOPOLOGY|STACK`; see {@link USAGE}. Hosts are read in parallel; a failing host is reported, not thrown. */
export async function statusCommand(
  args: readonly string[],
  io: CliIo,
  options: StatusCommandOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let parsed: ParsedArgs;
  let target: { file: string; stack?: string };
  let identity: string | undefined;
  try {
    const result = parseArgs(args);
    if (result === "help") {
      io.out(USAGE);
      return 0;
    }
    parsed = result;
    target = resolveTarget(parsed.target, cwd);
    if (parsed.identity !== undefined) {
      try {
        identity = fs.readFileSync(path.resolve(cwd, parsed.identity), "utf8");
      } catch (error) {
        throw new UsageError(
          `--identity ${parsed.identity}: cannot read: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
        );
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`netmap-testbed status: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }

  let text: string;
  try {
    text = fs.readFileSync(target.file, "utf8");
  } catch (error) {
    io.err(`${target.file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
    return 1;
  }
  const { model, issues } = checkTopology(text, target.file);
  if (!model || issues.length > 0) {
    for (const issue of issues) io.err(formatIssue(issue));
    return 1;
  }
  let plan: TestbedPlan;
  try {
    // The same build keys and QEMU prefixes the deployment planned: controller sources by content.
    plan = planTestbed(stageModelSources(model).model);
  } catch (error) {
    io.err(`${target.file}: cannot read a source on this machine: ${errorMessage(error)}`);
    return 1;
  }
  const unknown = parsed.hosts.filter((name) => !plan.hosts.some((host) => host.name === name));
  if (unknown.length > 0) {
    io.err(
      `netmap-testbed status: no host ${unknown.join(", ")} in ${target.file} (hosts: ${plan.hosts.map((h) => h.name).join(", ")})`,
    );
    return 2;
  }
  const selected = plan.hosts.filter((host) => parsed.hosts.length === 0 || parsed.hosts.includes(host.name));
  const labHostCount = plan.hosts.filter((host) => host.spec.access.kind === "localLab").length;
  const agent = env.SSH_AUTH_SOCK && env.SSH_AUTH_SOCK !== "" ? env.SSH_AUTH_SOCK : undefined;
  const pool = new HostSessionPool({ connectTimeoutMs: parsed.connectTimeoutMs, connectAttempts: 3 });

  const readOne = async (host: HostPlan): Promise<HostStatusReport> => {
    const unreachable = (error: string): HostStatusReport => ({
      name: host.name,
      reachable: false,
      error,
      observed: null,
      drift: [],
    });
    const access = host.spec.access;
    let sessionOptions: Omit<HostSessionOptions, "credentials">;
    let labKeyPath: string | null = null;
    if (access.kind === "localLab") {
      const lab = findLabHost(
        host.name,
        parsed.labState,
        target.stack,
        options.home ?? os.homedir(),
        labHostCount,
      );
      if (typeof lab === "string") return unreachable(lab);
      labKeyPath = lab.privateKeyPath;
      sessionOptions = {
        name: host.name,
        address: lab.address,
        port: lab.port,
        user: lab.user,
        hostKey: lab.hostKey,
      };
    } else {
      sessionOptions = {
        name: host.name,
        address: access.address,
        port: access.port,
        user: access.user,
        hostKey: access.hostKey,
      };
    }
    const credentials = credentialsFor(identity, agent, labKeyPath);
    if (!credentials) {
      return unreachable(
        `host ${host.name}: no SSH credentials: pass --identity FILE or run an ssh-agent (SSH_AUTH_SOCK)`,
      );
    }
    const session = pool.get({
      ...sessionOptions,
      credentials,
      sudo: (sessionOptions.user ?? "root") !== "root",
    });
    try {
      const scriptEnv = options.scriptEnv?.(host.name);
      const observed = await readHostStatus(session, host, {
        ...(options.scriptPath !== undefined ? { scriptPath: options.scriptPath } : {}),
        ...(scriptEnv ? { env: scriptEnv } : {}),
      });
      return { name: host.name, reachable: true, observed, drift: computeDrift(host, observed) };
    } catch (error) {
      if (error instanceof HostConnectionError) return unreachable(error.message);
      return { name: host.name, reachable: true, error: errorMessage(error), observed: null, drift: [] };
    }
  };

  let reports: HostStatusReport[];
  try {
    reports = await Promise.all(selected.map(readOne));
  } finally {
    await pool.closeAll();
  }
  io.out(
    parsed.json ? JSON.stringify(statusToJson(model.name, reports), null, 2) : renderStatusText(reports),
  );
  return statusExitCode(reports);
}

/** `netmap-testbed status …` (wired into main.ts). */
export function runStatus(args: readonly string[], io: CliIo): Promise<number> {
  return statusCommand(args, io);
}
