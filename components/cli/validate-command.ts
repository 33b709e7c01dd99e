import * as fs from "node:fs";
import { checkTopology, formatIssue } from "../topology";
import type { CliIo } from "./main";

/** `validate FILE...`: every problem of every file, never the first only; touches no host. */
export function runValidate(args: readonly string[], io: CliIo): number {
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    io.err("usage: netmap-testbed validate FILE...");
    return args.length === 0 ? 2 : 0;
  }
  let failed = false;
  for (const file of args) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      io.err(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      failed = true;
      continue;
    }
    const { issues } = checkTopology(text, file);
    if (issues.length > 0) {
      failed = true;
      for (const issue of issues) io.err(formatIssue(issue));
      io.err(`${file}: ${issues.length} problem${issues.length === 1 ? "" : "s"}`);
    } else {
      io.out(`${file}: valid`);
    }
  }
  return failed ? 1 : 0;
}
