/** The pipeline: YAML → draft (shape and value checks) → cross-checks → model. */
import { sortIssues, type TopologyIssue } from "./errors";
import type { TopologyModel } from "./model";
import { Reader } from "./reader";
import { readTopology } from "./read-topology";
import { buildModel, validateDraft } from "./validate";
import { parseYaml } from "./yaml-source";

export interface TopologyCheck {
  /** Present exactly when `issues` is empty. */
  readonly model?: TopologyModel;
  /** Every problem found, in document order. */
  readonly issues: readonly TopologyIssue[];
}

export function checkTopology(text: string, file: string): TopologyCheck {
  const source = parseYaml(text, file);
  // After a syntax error the tree is a guess; checking it would bury the real error in noise.
  if (source.unusable) return { issues: sortIssues(source.issues) };
  const reader = new Reader(source);
  const draft = readTopology(reader);
  if (draft) validateDraft(draft, reader);
  const issues = sortIssues([...source.issues, ...reader.issues]);
  if (issues.length > 0 || draft === undefined) return { issues };
  return { model: buildModel(draft, file), issues };
}
