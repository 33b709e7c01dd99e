/**
 * The shipped topologies (stacks/topologies/) as tests use them: read as shipped, nothing
 * replaced. stacks/topologies/topologies.test.ts checks that each is valid as it is.
 */
import path from "node:path";
import { loadTopology, type TopologyModel } from "../../components/topology";

export const SHIPPED_TOPOLOGIES_DIR = path.resolve(__dirname, "..", "..", "stacks", "topologies");

/** A shipped topology's model, parsed from the file as shipped; messages name that file. */
export function loadShippedTopology(name: string): TopologyModel {
  return loadTopology(path.join(SHIPPED_TOPOLOGIES_DIR, name));
}
