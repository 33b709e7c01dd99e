import { formatIssue } from "../topology";
import { readTextInput } from "./input-file";
import type { CliIo } from "./io";
import { checkTopologyFile } from "./playbook-hint";
import { EXIT_INVALID, EXIT_USAGE, usageError } from "./usage-error";

const USAGE = `usage: netmap-testbed validate FILE...

Checks topology files (schema netmap-testbed/v1) and lists every problem of each as
FILE:LINE:COL: PATH: message. Touches no host. A file whose name starts with "-" is given
after "--" (or as ./-name). Playbooks are checked with: netmap-testbed run PLAYBOOK --check

exit: 0 all valid, 1 a file is invalid or cannot be read, 2 usage`;

const SYNOPSIS = "validate FILE...";

/** The files to check, "help", or a usage problem. */
function parseValidateArgs(args: readonly string[]): { files: string[] } | "help" | { problem: string } {
  const files: string[] = [];
  let optionsEnded = false;
  for (const arg of args) {
    if (!optionsEnded && (arg === "-h" || arg === "--help")) return "help";
    if (!optionsEnded && arg === "--") optionsEnded = true;
    else if (!optionsEnded && arg.startsWith("-") && arg !== "-")
      return { problem: `unknown option ${arg} (a file of that name: ./${arg})` };
    else files.push(arg);
  }
  return files.length === 0 ? { problem: "give at least one topology FILE" } : { files };
}

/** `validate FILE...`: every problem of every file, never the first only; touches no host. */
export function runValidate(args: readonly string[], io: CliIo): number {
  const parsed = parseValidateArgs(args);
  if (parsed === "help") {
    io.out(USAGE);
    return 0;
  }
  if ("problem" in parsed) {
    io.err(usageError("validate", parsed.problem, SYNOPSIS));
    return EXIT_USAGE;
  }
  let failed = false;
  for (const file of parsed.files) {
    const input = readTextInput(file, "give a topology file");
    if ("problem" in input) {
      io.err(input.problem);
      failed = true;
      continue;
    }
    const check = checkTopologyFile(file, input.text);
    if ("hint" in check) {
      io.err(check.hint);
      failed = true;
      continue;
    }
    const { issues } = check;
    if (issues.length > 0) {
      failed = true;
      for (const issue of issues) io.err(formatIssue(issue));
      io.err(`${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`);
    } else {
      io.out(`${file}: valid`);
    }
  }
  return failed ? EXIT_INVALID : 0;
}
