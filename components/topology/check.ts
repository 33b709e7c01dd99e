/** The pipeline: YAML → draft (shape and value checks) → cross-checks → model. */
import { sortIssues, type TopologyIssue } from "./errors";
import type { TopologyModel } from "./model";
import { Reader } from "./reader";
import { ROOT_PATH } from "./paths";
import { API_VERSION, readTopology } from "./read-topology";
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
  // A file that is not YAML and does not even say what it is (a README, a log, a shell script)
  // is the wrong file, not a topology with many syntax errors: one line says so.
  if (source.unusable && !/^apiVersion\s*:/m.test(text)) {
    return {
      issues: [
        {
          file,
          line: 1,
          col: 1,
          path: ROOT_PATH,
          message: `not a topology file: it is not valid YAML and has no "apiVersion: ${API_VERSION}" line; give a topology file (docs/topology.md)`,
        },
      ],
    };
  }
  // After a syntax error the tree is a guess; checking it would bury the real error in noise.
  if (source.unusable) return { issues: sortIssues(source.issues) };
  const reader = new Reader(source);
  const draft = readTopology(reader);
  if (draft) validateDraft(draft, reader);
  const issues = sortIssues([...source.issues, ...reader.issues]);
  if (issues.length > 0 || draft === undefined) return { issues };
  return { model: buildModel(draft, file), issues };
}
