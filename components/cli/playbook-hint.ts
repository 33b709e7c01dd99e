import { parse as parseYaml } from "yaml";
import { looksLikePlaybook } from "../playbooks/read-playbook";
import { checkTopology, type TopologyCheck } from "../topology";

/**
 * One line for a playbook given where a topology is expected (validate, plan, status), pointing at
 * the command that checks playbooks, instead of a list of the topology keys a playbook lacks.
 */
export function playbookGivenAsTopology(file: string, text: string): string | undefined {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch {
    return undefined; // Not YAML at all: the topology check reports where.
  }
  if (!looksLikePlaybook(document)) return undefined;
  return `${file}: this is a playbook, not a topology; check it with: netmap-testbed run ${file} --check`;
}

/**
 * The topology check of a file, or the one-line playbook hint in place of its issues. The file
 * is parsed a second time for the hint only when the check failed: a valid topology is never a
 * playbook, and the second parse was half the cost of checking a large one.
 */
export function checkTopologyFile(file: string, text: string): TopologyCheck | { readonly hint: string } {
  const check = checkTopology(text, file);
  if (check.issues.length === 0) return check;
  const hint = playbookGivenAsTopology(file, text);
  return hint === undefined ? check : { hint };
}
