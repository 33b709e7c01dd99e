import { parse as parseYaml } from "yaml";
import { looksLikePlaybook } from "../playbooks/read-playbook";

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
