#!/usr/bin/env node
/**
 * `netmap-testbed` command line: validate and plan topologies without touching any host, read
 * back what is deployed (status), and run experiment playbooks.
 */
import { runValidate } from "./validate-command";
import { runPlan } from "./plan-command";
import { runRun } from "./run-command";
import { runStatus } from "./status-command";

const USAGE = `usage: netmap-testbed <command> [options]

commands:
  validate FILE...          check topology files; exit 1 and list every problem when invalid
  plan FILE [--json]        print what would be done on every host (never contacts a host)
  status TOPOLOGY|STACK [--json] [--identity FILE] [--host NAME]...
                            read back what each host really has and print drift (exit 1 on drift)
  run PLAYBOOK [--topology FILE | --stack NAME] [--out DIR] [--check]
                            measure a deployed testbed with pkt-gen; results, manifest, report, plots

Run "netmap-testbed <command> --help" for a command's options.`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};

/** Runs one CLI invocation and returns its exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "validate":
      return runValidate(rest, io);
    case "plan":
      return runPlan(rest, io);
    case "status":
      return runStatus(rest, io);
    case "run":
      return runRun(rest, io);
    case undefined:
    case "-h":
    case "--help":
    case "help":
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.err(`netmap-testbed: unknown command "${command}"\n${USAGE}`);
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
