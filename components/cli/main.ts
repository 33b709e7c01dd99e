#!/usr/bin/env node
/**
 * `netmap-testbed` command line: validate and plan topologies without touching any host, read
 * back what is deployed (status), and run experiment playbooks.
 *
 * Each command's module is loaded only when that command runs: `run` pulls in the plotting
 * libraries (vega, vega-lite) and `status`/`run` the SSH client, none of which `validate` and
 * `plan` need, and loading them would multiply their start-up time.
 */
import { processIo, type CliIo } from "./io";
import { packageVersion } from "./version";

export type { CliIo } from "./io";

const USAGE = `usage: netmap-testbed <command> [options]

commands:
  validate FILE...          check topology files; exit 1 and list every problem when invalid
  plan FILE [--json]        print what would be done on every host (never contacts a host)
  status TOPOLOGY|STACK [--json] [--identity FILE] [--host NAME]...
                            read back what each host really has and print drift (exit 1 on drift)
  run PLAYBOOK [--topology FILE | --stack NAME] [--out DIR] [--check]
                            measure a deployed testbed with pkt-gen; results, manifest, report, plots

  -V, --version             print the version of netmap-testbed
  -h, --help                print this help

A STACK (status, run --stack) is one of the Pulumi project in the current directory (the nearest
Pulumi.yaml at or above it). Run "netmap-testbed <command> --help" for a command's options.`;

const COMMANDS = ["validate", "plan", "status", "run"];

/** Runs one CLI invocation and returns its exit code (0 ok, 1 failure, 2 usage, 130 interrupted). */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "validate":
      return (await import("./validate-command")).runValidate(rest, io);
    case "plan":
      return (await import("./plan-command")).runPlan(rest, io);
    case "status":
      return (await import("./status-command")).runStatus(rest, io);
    case "run":
      return (await import("./run-command")).runRun(rest, io);
    case "-V":
    case "--version":
      io.out(packageVersion());
      return 0;
    case undefined:
    case "-h":
    case "--help":
    case "help":
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.err(
        `netmap-testbed: unknown ${command.startsWith("-") ? "option" : "command"} "${command}"; ` +
          `commands: ${COMMANDS.join(", ")} (netmap-testbed --help lists them)`,
      );
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`netmap-testbed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
