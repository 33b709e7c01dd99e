/**
 * Experiment playbooks (schema netmap-testbed/playbook-v1, docs/playbooks.md): validation,
 * endpoint resolution, the runner and its results, provenance, statistics, plots and report.
 */
import { readFileSync } from "node:fs";
import { TopologyError } from "../topology/errors";
import { checkPlaybook, type PlaybookCheckOptions } from "./check";
import type { PlaybookModel } from "./model";

export {
  checkPlaybook,
  playbookTopologyPath,
  RUN_DEFAULTS,
  type PlaybookCheck,
  type PlaybookCheckOptions,
} from "./check";
export * from "./model";
export {
  resolveEndpoint,
  checkPath,
  machineKey,
  type ResolvedEndpoint,
  type MachineRef,
  type PortRef,
} from "./resolve";
export { lineRatePps, lineRateMpps } from "./line-rate";
export { summarize, type Summary } from "./statistics";

/** Reads and validates a playbook file; throws a TopologyError (same `FILE:LINE:COL` format) listing every problem. */
export function loadPlaybook(file: string, options: PlaybookCheckOptions = {}): PlaybookModel {
  const { model, issues } = checkPlaybook(readFileSync(file, "utf8"), file, options);
  if (!model) throw new TopologyError(issues);
  return model;
}
