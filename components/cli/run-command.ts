/**
 * `netmap-testbed run PLAYBOOK`: validates the playbook against its topology, then measures the
 * deployed testbed over SSH and writes results/<timestamp>-<playbook>/ (docs/playbooks.md).
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { HostCredentials } from "../host";
import { checkPlaybook } from "../playbooks/check";
import { parseHostKeyFile, type KnownMachineKey } from "../playbooks/host-keys";
import { runPlaybook } from "../playbooks/runner";
import { packageRoot } from "../pulumi/package-root";
import { formatIssue } from "../topology/errors";
import type { CliIo } from "./main";

export const RUN_USAGE = `usage: netmap-testbed run PLAYBOOK [--topology FILE | --stack NAME] [--out DIR] [--pkt-gen PATH]
                          [--identity FILE] [--host-key-file FILE] [--guest-user NAME] [--check]

  --topology FILE       use this topology instead of the playbook's "topology"
  --stack NAME          use the topology of stacks/Pulumi.NAME.yaml (netmap-testbed:topology)
  --out DIR             parent of the results directory (default: results)
  --pkt-gen PATH        pkt-gen on the hosts and guests (default: the installed
                        /opt/netmap-testbed/bin/pkt-gen, else pkt-gen on their PATH)
  --identity FILE       SSH private key for hosts and guests (default: the agent at $SSH_AUTH_SOCK)
  --host-key-file FILE  host keys of guests and local-lab hosts: lines "NAME [ADDRESS:PORT] TYPE BASE64"
  --guest-user NAME     login user in guests (default: netmap, with password-less sudo)
  --check               validate the playbook and its topology only; contact no host

exit status: 0 all measured, 1 invalid input or a failed measurement, 2 usage, 130 interrupted (Ctrl-C)`;

interface RunArgs {
  playbook: string;
  topology?: string;
  stack?: string;
  out?: string;
  pktGen?: string;
  identity?: string;
  hostKeyFile?: string;
  guestUser?: string;
  check: boolean;
}

const VALUE_FLAGS: Readonly<Record<string, keyof RunArgs>> = {
  "--topology": "topology",
  "--stack": "stack",
  "--out": "out",
  "--pkt-gen": "pktGen",
  "--identity": "identity",
  "--host-key-file": "hostKeyFile",
  "--guest-user": "guestUser",
};

export function parseRunArgs(args: readonly string[]): RunArgs | string {
  const positional: string[] = [];
  const parsed: Partial<RunArgs> & { check: boolean } = { check: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const key = VALUE_FLAGS[flag];
    if (key !== undefined) {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") return `${flag} needs a value`;
      (parsed as Record<string, unknown>)[key] = value;
    } else if (flag === "--check") {
      parsed.check = true;
    } else if (arg.startsWith("-")) {
      return `unknown option ${arg}`;
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1)
    return positional.length === 0 ? "give one PLAYBOOK" : `give one PLAYBOOK, got ${positional.length}`;
  if (parsed.topology !== undefined && parsed.stack !== undefined)
    return "give --topology or --stack, not both";
  return { ...parsed, playbook: positional[0] };
}

/** The topology file named by stacks/Pulumi.NAME.yaml, looked up from the working directory, else the package. */
export function stackTopology(stack: string, cwd = process.cwd()): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack))
    throw new Error(`stack name "${stack}" may contain only letters, digits, ".", "_", "-"`);
  const roots = [cwd, packageRoot()];
  for (const root of roots) {
    const file = path.join(root, "stacks", `Pulumi.${stack}.yaml`);
    if (!existsSync(file)) continue;
    const config = (parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)
      ?.config;
    const topology = config?.["netmap-testbed:topology"];
    if (typeof topology !== "string") throw new Error(`${file}: no netmap-testbed:topology setting`);
    return path.isAbsolute(topology) ? topology : path.join(root, topology);
  }
  throw new Error(`no stacks/Pulumi.${stack}.yaml in ${roots.join(" or ")}`);
}

function credentials(args: RunArgs, env: NodeJS.ProcessEnv): HostCredentials | string {
  if (args.identity !== undefined) {
    try {
      return {
        privateKey: readFileSync(args.identity, "utf8"),
        ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
      };
    } catch (error) {
      return `cannot read --identity ${args.identity}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
  }
  if (env.SSH_AUTH_SOCK) return { agent: env.SSH_AUTH_SOCK };
  return "no SSH credentials: give --identity FILE or run an ssh-agent ($SSH_AUTH_SOCK)";
}

/** Runs `run`; resolves with the exit code. Installs a SIGINT handler while measuring. */
export async function runRun(args: readonly string[], io: CliIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(RUN_USAGE);
    return 0;
  }
  const parsed = parseRunArgs(args);
  if (typeof parsed === "string") {
    io.err(`netmap-testbed run: ${parsed}\n${RUN_USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(parsed.playbook, "utf8");
  } catch (error) {
    io.err(`${parsed.playbook}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 1;
  }
  let topologyFile = parsed.topology;
  try {
    if (parsed.stack !== undefined) topologyFile = stackTopology(parsed.stack);
  } catch (error) {
    io.err(`netmap-testbed run: ${(error as Error).message}`);
    return 1;
  }
  const { model, issues } = checkPlaybook(text, parsed.playbook, topologyFile ? { topologyFile } : {});
  if (!model) {
    for (const issue of issues) io.err(formatIssue(issue));
    return 1;
  }
  const measurements = model.runs.reduce((n, run) => n + run.sizes.length * run.repetitions, 0);
  if (parsed.check) {
    io.out(
      `${parsed.playbook}: ok (${model.runs.length} run(s), ${measurements} measurement(s) on topology ${model.topology.name})`,
    );
    return 0;
  }
  const creds = credentials(parsed, process.env);
  if (typeof creds === "string") {
    io.err(`netmap-testbed run: ${creds}`);
    return 2;
  }
  let knownKeys: Map<string, KnownMachineKey> | undefined;
  if (parsed.hostKeyFile !== undefined) {
    try {
      knownKeys = parseHostKeyFile(readFileSync(parsed.hostKeyFile, "utf8"), parsed.hostKeyFile);
    } catch (error) {
      io.err(`netmap-testbed run: ${(error as Error).message}`);
      return 1;
    }
  }
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) {
      io.err("netmap-testbed run: second interrupt, exiting without cleanup");
      process.exit(130);
    }
    io.err(
      "netmap-testbed run: interrupted; stopping remote pkt-gen and keeping what was measured (Ctrl-C again to quit at once)",
    );
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const result = await runPlaybook({
      playbook: model,
      credentials: creds,
      ...(knownKeys ? { knownKeys } : {}),
      ...(parsed.guestUser ? { guestUser: parsed.guestUser } : {}),
      ...(parsed.pktGen ? { pktGen: parsed.pktGen } : {}),
      ...(parsed.out ? { outDir: parsed.out } : {}),
      signal: controller.signal,
      progress: (line) => io.err(line),
      log: (line) => io.err(`warning: ${line}`),
    });
    io.out(`results: ${result.dir}`);
    if (result.interrupted) return 130;
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    io.err(`netmap-testbed run: ${(error as Error).message}`);
    return 1;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
