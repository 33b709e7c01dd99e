import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostConnectionError } from "../host/errors";
import { HostSessionPool } from "../host/pool";
import type { HostCredentials, HostSessionOptions } from "../host/session";
import { planTestbed, type HostPlan, type TestbedPlan } from "../plan";
import { stageModelSources } from "../pulumi/controller-source";
import {
  computeDrift,
  readHostStatus,
  renderStatusText,
  statusExitCode,
  statusToJson,
  type HostStatusReport,
} from "../status";
import { formatIssue } from "../topology";
import { readTextInput } from "./input-file";
import type { CliIo } from "./io";
import { findLabHost, labStateProblem } from "./lab-host";
import { checkTopologyFile } from "./playbook-hint";
import { findStackTopology } from "./pulumi-project";
import { noCredentialsMessage, sshAgent } from "./ssh-credentials";
import { EXIT_INVALID, EXIT_USAGE, usageError } from "./usage-error";

const SYNOPSIS = "status TOPOLOGY.yaml|STACK [options]";

const USAGE = `usage: netmap-testbed status TOPOLOGY.yaml|STACK [--json] [--identity FILE] [--host NAME]...
                             [--lab-state DIR] [--connect-timeout SECONDS]

Reads back what is really on each host (modules, netmap parameters, NIC drivers, VALE ports, VMs
and their QEMU argv, builds) over one SSH connection per host, all hosts at once, and prints the
drift against the topology: missing, extra, different.

  STACK               a stack of the Pulumi project in this directory (the nearest Pulumi.yaml at or
                      above it): its Pulumi.STACK.yaml names the topology (netmap-testbed:topology)
  --json              print {"topology","hosts":[{"name","reachable","error"?,"observed","drift"}]}
  --identity FILE     SSH private key (default: the agent at $SSH_AUTH_SOCK; lab hosts: their own key)
  --host NAME         only this host (repeatable)
  --lab-state DIR     where localLab hosts keep their state (boot-host.sh's host.json): one host's
                      state dir or the lab root (default with a STACK: ~/.cache/netmap-testbed/lab)
  --connect-timeout S seconds to get an SSH connection to a host (default 10)

exit: 0 no drift, 1 drift, a host unreachable/unreadable or invalid input, 2 usage (no credentials too)`;

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

/** The topology file given, or the one a stack's config names; or the one-line problem. */
function resolveTarget(target: string, cwd: string): { file: string; stack?: string } | string {
  const direct = path.resolve(cwd, target);
  const fix = "give a topology file, or the name of a stack of the Pulumi project in this directory";
  if (fs.existsSync(direct)) return { file: direct };
  if (/\.ya?ml$/i.test(target) || target.includes("/") || !/^[A-Za-z0-9_.-]+$/.test(target)) {
    return `${target}: no such file (${fix})`;
  }
  const found = findStackTopology(target, cwd);
  if (typeof found === "string") return `${target}: not a file, and as a stack: ${found}`;
  return { file: found.file, stack: target };
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

/** Where and as whom one host is read, or why it cannot be (reported for that host alone). */
type HostAccess =
  | { readonly host: HostPlan; readonly session: HostSessionOptions }
  | { readonly host: HostPlan; readonly unreachable: string }
  | { readonly host: HostPlan; readonly noCredentials: true };

/** `status TOPOLOGY|STACK`; see {@link USAGE}. Hosts are read in parallel; a failing host is reported, not thrown. */
export async function statusCommand(
  args: readonly string[],
  io: CliIo,
  options: StatusCommandOptions = {},
): Promise<number> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let parsed: ParsedArgs;
  try {
    const result = parseArgs(args);
    if (result === "help") {
      io.out(USAGE);
      return 0;
    }
    parsed = result;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(usageError("status", error.message, SYNOPSIS));
      return EXIT_USAGE;
    }
    throw error;
  }
  const target = resolveTarget(parsed.target, cwd);
  if (typeof target === "string") {
    io.err(target);
    return EXIT_INVALID;
  }
  let identity: string | undefined;
  if (parsed.identity !== undefined) {
    const key = readTextInput(path.resolve(cwd, parsed.identity), "give --identity an SSH private key file");
    if ("problem" in key) {
      io.err(`netmap-testbed status: --identity ${key.problem}`);
      return EXIT_INVALID;
    }
    identity = key.text;
  }
  const labStateIssue = parsed.labState === undefined ? undefined : labStateProblem(parsed.labState, cwd);
  if (labStateIssue !== undefined) {
    io.err(`netmap-testbed status: ${labStateIssue}`);
    return EXIT_INVALID;
  }

  const fix = target.stack
    ? `the topology of stack ${target.stack}; fix its netmap-testbed:topology setting`
    : "give a topology file";
  const input = readTextInput(target.file, fix);
  if ("problem" in input) {
    io.err(input.problem);
    return EXIT_INVALID;
  }
  const check = checkTopologyFile(target.file, input.text);
  if ("hint" in check) {
    io.err(check.hint);
    return EXIT_INVALID;
  }
  const { model, issues } = check;
  if (!model || issues.length > 0) {
    for (const issue of issues) io.err(formatIssue(issue));
    return EXIT_INVALID;
  }
  let plan: TestbedPlan;
  try {
    // The same build keys and QEMU prefixes the deployment planned: controller sources by content.
    plan = planTestbed(stageModelSources(model).model);
  } catch (error) {
    io.err(`${target.file}: cannot read a source on this machine: ${errorMessage(error)}`);
    return EXIT_INVALID;
  }
  const unknown = parsed.hosts.filter((name) => !plan.hosts.some((host) => host.name === name));
  if (unknown.length > 0) {
    io.err(
      usageError(
        "status",
        `no host ${unknown.join(", ")} in ${target.file} (hosts: ${plan.hosts.map((h) => h.name).join(", ")})`,
        SYNOPSIS,
      ),
    );
    return EXIT_USAGE;
  }
  const selected = plan.hosts.filter((host) => parsed.hosts.length === 0 || parsed.hosts.includes(host.name));
  const labHostCount = plan.hosts.filter((host) => host.spec.access.kind === "localLab").length;
  const agent = sshAgent(env);

  const accessOf = (host: HostPlan): HostAccess => {
    const access = host.spec.access;
    let endpoint: Omit<HostSessionOptions, "credentials">;
    let labKeyPath: string | null = null;
    if (access.kind === "localLab") {
      const lab = findLabHost(
        host.name,
        parsed.labState === undefined ? undefined : path.resolve(cwd, parsed.labState),
        target.stack,
        options.home ?? os.homedir(),
        labHostCount,
      );
      if (typeof lab === "string") return { host, unreachable: lab };
      labKeyPath = lab.privateKeyPath;
      endpoint = {
        name: host.name,
        address: lab.address,
        port: lab.port,
        user: lab.user,
        hostKey: lab.hostKey,
      };
    } else {
      const { address, port, user, hostKey } = access;
      endpoint = { name: host.name, address, port, user, hostKey };
    }
    const credentials = credentialsFor(identity, agent.socket, labKeyPath);
    if (!credentials) return { host, noCredentials: true };
    return { host, session: { ...endpoint, credentials, sudo: (endpoint.user ?? "root") !== "root" } };
  };
  const accesses = selected.map(accessOf);
  // Missing credentials are the caller's to fix, for every host at once, before any is contacted.
  const withoutCredentials = accesses.filter((a) => "noCredentials" in a).map((a) => a.host.name);
  if (withoutCredentials.length > 0) {
    const subject = ` for host${withoutCredentials.length === 1 ? "" : "s"} ${withoutCredentials.join(", ")}`;
    io.err(`netmap-testbed status: ${noCredentialsMessage(subject, agent.note)}`);
    return EXIT_USAGE;
  }

  const pool = new HostSessionPool({ connectTimeoutMs: parsed.connectTimeoutMs, connectAttempts: 3 });
  const readOne = async (access: HostAccess): Promise<HostStatusReport> => {
    const { host } = access;
    const unreachable = (error: string): HostStatusReport => ({
      name: host.name,
      reachable: false,
      error,
      observed: null,
      drift: [],
    });
    if ("unreachable" in access) return unreachable(access.unreachable);
    if (!("session" in access)) return unreachable(`host ${host.name}: no SSH credentials`);
    const session = pool.get(access.session);
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
    reports = await Promise.all(accesses.map(readOne));
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
