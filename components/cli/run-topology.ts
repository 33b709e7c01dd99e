/**
 * Which topology `run` measures against: `--topology FILE`, else `--stack NAME` (a stack of the
 * Pulumi project in the working directory), else the playbook's own `topology`, relative to the
 * playbook file. The shipped playbooks name `../stacks/topologies/…`, which exists in a checkout of
 * this repository but not in an installed package: then the error says to pass --topology/--stack.
 */
import { parse as parseYaml } from "yaml";
import { playbookTopologyPath } from "../playbooks/check";
import { readTextInput } from "./input-file";
import { findStackTopology } from "./pulumi-project";

export interface RunTopology {
  readonly file: string;
  readonly text: string;
}

const FIX = "pass --topology FILE, or --stack NAME for a stack of the Pulumi project in this directory";

/** The playbook's own `topology` value, when the document is YAML and it is a string. */
function playbookTopologyValue(text: string): string | undefined {
  try {
    const document = parseYaml(text) as Record<string, unknown> | null;
    const value = document !== null && typeof document === "object" ? document.topology : undefined;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The topology to check the playbook against, read; `undefined` when the playbook names none
 * readable as such (its check then reports the problem where it is); or the one-line problem.
 */
export function resolveRunTopology(
  choice: { readonly topology?: string; readonly stack?: string },
  playbookFile: string,
  playbookText: string,
  cwd: string,
): RunTopology | { problem: string } | undefined {
  let file: string;
  let fix: string;
  if (choice.topology !== undefined) {
    file = choice.topology;
    fix = "give --topology a topology file";
  } else if (choice.stack !== undefined) {
    const found = findStackTopology(choice.stack, cwd);
    if (typeof found === "string") return { problem: `--stack ${choice.stack}: ${found}` };
    file = found.file;
    fix = `named by ${found.stackFile}; fix that setting or pass --topology FILE`;
  } else {
    const value = playbookTopologyValue(playbookText);
    if (value === undefined) return undefined;
    file = playbookTopologyPath(playbookFile, value);
    const input = readTextInput(file, FIX);
    if ("problem" in input) {
      return {
        problem: `${playbookFile}: its topology ${value} is read relative to the playbook: ${input.problem}`,
      };
    }
    return { file, text: input.text };
  }
  const input = readTextInput(file, fix);
  return "problem" in input ? input : { file, text: input.text };
}
