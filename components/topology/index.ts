/**
 * Topology files (schema netmap-testbed/v1, docs/topology.md) → validated `TopologyModel`.
 * Nothing here touches a host: bad input fails before any resource exists.
 */
import { readFileSync } from "node:fs";
import { checkTopology } from "./check";
import { TopologyError } from "./errors";
import type { TopologyModel } from "./model";

export { checkTopology, type TopologyCheck } from "./check";
export { formatIssue, TopologyError, type TopologyIssue } from "./errors";
export { allocateMacs, generatedMac } from "./macs";
export { NETMAP_PARAMS } from "./netmap-params";
export { API_VERSION } from "./read-topology";
export type * from "./model";

/** Parses and validates topology text; throws a TopologyError listing every problem. */
export function parseTopology(text: string, file: string): TopologyModel {
  const { model, issues } = checkTopology(text, file);
  if (model === undefined) throw new TopologyError(issues);
  return model;
}

/** Reads, parses and validates a topology file; messages name the file as given. */
export function loadTopology(path: string): TopologyModel {
  return parseTopology(readFileSync(path, "utf8"), path);
}
