/**
 * `netmap-testbed run PLAYBOOK`: validates the playbook against its topology, then measures the
 * deployed testbed over SSH and writes results/<timestamp>-<playbook>/ (docs/playbooks.md).
 */
import { readFileSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import type { HostCredentials } from "../host/session";
import { checkPlaybook } from "../playbooks/check";
import type { PlaybookModel } from "../playbooks/model";
import { parseHostKeyFile, type KnownMachineKey } from "../playbooks/host-keys";
import { formatIssue } from "../topology/errors";
import { readTextInput } from "./input-file";
import type { CliIo } from "./io";
import { findStackTopology } from "./pulumi-project";
import { labStateProblem } from "./lab-host";
import { labHostAccess } from "./run-lab-hosts";
import { resolveRunTopology } from "./run-topology";
import { noCredentialsMessage, sshAgent } from "./ssh-credentials";
import { EXIT_INVALID, EXIT_USAGE, usageError } from "./usage-error";

const SYNOPSIS = "run PLAYBOOK [--topology FILE | --stack NAME] [options]";

export const RUN_USAGE = `usage: netmap-testbed run PLAYBOOK [--topology FILE | --stack NAME] [--run NAME]... [--out DIR]
                          [--pkt-gen PATH] [--identity FILE] [--host-key-file FILE]
                          [--lab-state DIR] [--guest-user NAME] [--check]

  --topology FILE       use this topology instead of the playbook's "topology"
  --stack NAME          use the topology of the stack NAME of the Pulumi project in this directory
                        (the nearest Pulumi.yaml above; its Pulumi.NAME.yaml's netmap-testbed:topology)
  --run NAME            measure only this run of the playbook (repeatable; default: every run)
  --out DIR             parent of the results directory (default: results)
  --pkt-gen PATH        pkt-gen on the hosts and guests (default: the installed
                        /opt/netmap-testbed/bin/pkt-gen, else pkt-gen on their PATH)
  --identity FILE       SSH private key for hosts and guests (default: the agent at $SSH_AUTH_SOCK;
                        a local lab alone: the lab's own key)
  --host-key-file FILE  host keys of guests and local-lab hosts: lines "NAME [ADDRESS:PORT] TYPE BASE64"
  --lab-state DIR       where booted local-lab hosts record their port and keys (boot-host.sh's
                        host.json): the lab root or one host's state dir (default with --stack:
                        ~/.cache/netmap-testbed/lab); lab hosts not in --host-key-file are read there
  --guest-user NAME     login user in guests (default: netmap, with password-less sudo)
  --check               validate the playbook and its topology only; contact no host

The playbook's own "topology" is relative to the playbook file; the shipped playbooks name the
repository's stacks/topologies/, which an installed package does not have: pass --topology or --stack.

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
  labState?: string;
  /** Names of the runs to measure; empty: all of them. */
  runs: string[];
  check: boolean;
}

/** Hooks for tests; the command itself needs none. */
export interface RunCommandOptions {
  /** Where a --stack is looked up (the nearest Pulumi.yaml at or above). Defaults to process.cwd(). */
  readonly cwd?: string;
  /** Process environment (SSH_AUTH_SOCK). Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Home directory for the default lab state root. Defaults to os.homedir(). */
  readonly home?: string;
}

const VALUE_FLAGS: Readonly<Record<string, keyof RunArgs>> = {
  "--topology": "topology",
  "--stack": "stack",
  "--out": "out",
  "--pkt-gen": "pktGen",
  "--identity": "identity",
  "--host-key-file": "hostKeyFile",
  "--guest-user": "guestUser",
  "--lab-state": "labState",
};

export function parseRunArgs(args: readonly string[]): RunArgs | string {
  const positional: string[] = [];
  const parsed: Partial<RunArgs> & { check: boolean; runs: string[] } = { check: false, runs: [] };
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
    } else if (flag === "--run") {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") return "--run needs the name of a run";
      parsed.runs.push(value);
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

/** The topology file a stack of the Pulumi project at or above `cwd` names; throws when there is none. */
export function stackTopology(stack: string, cwd = process.cwd()): string {
  const found = findStackTopology(stack, cwd);
  if (typeof found === "string") throw new Error(found);
  return found.file;
}

/** Credentials, or the one-line problem and its exit status (a missing way to log in is usage). */
function credentials(
  args: RunArgs,
  env: NodeJS.ProcessEnv,
  labKeyPath: string | undefined,
): HostCredentials | { problem: string; exit: number } {
  const agent = sshAgent(env);
  if (args.identity !== undefined) {
    const key = readTextInput(args.identity, "give --identity an SSH private key file");
    if ("problem" in key) return { problem: `--identity ${key.problem}`, exit: EXIT_INVALID };
    return { privateKey: key.text, ...(agent.socket ? { agent: agent.socket } : {}) };
  }
  if (agent.socket) return { agent: agent.socket };
  if (labKeyPath !== undefined) {
    const key = readTextInput(labKeyPath, "the lab's key as boot-host.sh recorded it");
    if ("problem" in key) return { problem: key.problem, exit: EXIT_INVALID };
    return { privateKey: key.text };
  }
  return { problem: noCredentialsMessage("", agent.note), exit: EXIT_USAGE };
}

/** The playbook with only the runs `--run` names; a name it does not have is a usage error. */
function selectRuns(model: PlaybookModel, names: readonly string[]): PlaybookModel | string {
  if (names.length === 0) return model;
  const unknown = names.filter((name) => !model.runs.some((run) => run.name === name));
  if (unknown.length > 0) {
    return `--run ${unknown.join(", ")}: no such run in ${model.name} (its runs: ${model.runs.map((run) => run.name).join(", ")})`;
  }
  return { ...model, runs: model.runs.filter((run) => names.includes(run.name)) };
}

/** A topology file given as the PLAYBOOK: one line pointing at the right use, not its many "errors". */
function topologyGivenAsPlaybook(file: string, text: string): string | undefined {
  try {
    const document = parseYaml(text) as { apiVersion?: unknown } | null;
    if (document?.apiVersion !== "netmap-testbed/v1") return undefined;
  } catch {
    return undefined;
  }
  return `${file}: this is a topology, not a playbook; give it as --topology ${file} to a playbook, or check it with: netmap-testbed validate ${file}`;
}

/** `--out DIR` must be a directory (or not exist yet): said before any host is contacted. */
function outDirProblem(out: string | undefined): string | undefined {
  if (out === undefined) return undefined;
  try {
    return statSync(out).isDirectory() ? undefined : `--out ${out}: not a directory (give --out a directory)`;
  } catch {
    return undefined; // Made when the first result is written.
  }
}

/** Runs `run`; resolves with the exit code. Installs a SIGINT handler while measuring. */
export async function runRun(
  args: readonly string[],
  io: CliIo,
  options: RunCommandOptions = {},
): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(RUN_USAGE);
    return 0;
  }
  const parsed = parseRunArgs(args);
  if (typeof parsed === "string") {
    io.err(usageError("run", parsed, SYNOPSIS));
    return EXIT_USAGE;
  }
  const cwd = options.cwd ?? process.cwd();
  const playbook = readTextInput(parsed.playbook, "give a playbook file");
  if ("problem" in playbook) {
    io.err(playbook.problem);
    return EXIT_INVALID;
  }
  const misuse = topologyGivenAsPlaybook(parsed.playbook, playbook.text);
  if (misuse !== undefined) {
    io.err(misuse);
    return EXIT_INVALID;
  }
  const topology = resolveRunTopology(parsed, parsed.playbook, playbook.text, cwd);
  if (topology !== undefined && "problem" in topology) {
    io.err(topology.problem);
    return EXIT_INVALID;
  }
  const { model: checked, issues } = checkPlaybook(
    playbook.text,
    parsed.playbook,
    topology === undefined
      ? {}
      : {
          topologyFile: topology.file,
          readFile: (file) => (file === topology.file ? topology.text : readFileSync(file, "utf8")),
        },
  );
  if (!checked) {
    for (const issue of issues) io.err(formatIssue(issue));
    return EXIT_INVALID;
  }
  const model = selectRuns(checked, parsed.runs);
  if (typeof model === "string") {
    io.err(usageError("run", model, SYNOPSIS));
    return EXIT_USAGE;
  }
  const measurements = model.runs.reduce((n, run) => n + run.sizes.length * run.repetitions, 0);
  if (parsed.check) {
    io.out(
      `${parsed.playbook}: ok (${model.runs.length} run(s), ${measurements} measurement(s) on topology ${model.topology.name})`,
    );
    return 0;
  }
  const outProblem = outDirProblem(parsed.out);
  if (outProblem !== undefined) {
    io.err(`netmap-testbed run: ${outProblem}`);
    return EXIT_INVALID;
  }
  const labStateIssue = parsed.labState === undefined ? undefined : labStateProblem(parsed.labState, cwd);
  if (labStateIssue !== undefined) {
    io.err(`netmap-testbed run: ${labStateIssue}`);
    return EXIT_INVALID;
  }
  let knownKeys: Map<string, KnownMachineKey> | undefined;
  if (parsed.hostKeyFile !== undefined) {
    const keys = readTextInput(parsed.hostKeyFile, "give --host-key-file a file of host keys");
    if ("problem" in keys) {
      io.err(`netmap-testbed run: --host-key-file ${keys.problem}`);
      return EXIT_INVALID;
    }
    try {
      knownKeys = parseHostKeyFile(keys.text, parsed.hostKeyFile);
    } catch (error) {
      io.err(`netmap-testbed run: ${(error as Error).message}`);
      return EXIT_INVALID;
    }
  }
  const lab = labHostAccess(model.topology, knownKeys, {
    ...(parsed.stack !== undefined ? { stack: parsed.stack } : {}),
    ...(parsed.labState !== undefined ? { labState: path.resolve(cwd, parsed.labState) } : {}),
    home: options.home ?? os.homedir(),
  });
  if ("problem" in lab) {
    io.err(`netmap-testbed run: ${lab.problem}`);
    return EXIT_INVALID;
  }
  if (lab.keys.size > 0) knownKeys = new Map([...(knownKeys ?? []), ...lab.keys]);
  const creds = credentials(parsed, options.env ?? process.env, lab.privateKeyPath);
  if ("problem" in creds) {
    io.err(`netmap-testbed run: ${creds.problem}`);
    return creds.exit;
  }
  // Loaded only to measure: the runner brings the SSH client and the plotting libraries.
  const { runPlaybook } = await import("../playbooks/runner");
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
    if (result.dir !== undefined) io.out(`results: ${result.dir}`);
    else io.err("netmap-testbed run: nothing was measured; no results directory written");
    if (result.interrupted) return 130;
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    io.err(`netmap-testbed run: ${(error as Error).message}`);
    return controller.signal.aborted ? 130 : 1;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}
