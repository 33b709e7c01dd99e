/**
 * No import cycles among the library's modules (components/, tests excluded). A cycle makes load
 * order matter (a module sees the other's exports as undefined while both are loading) and ties
 * two modules together so neither can be understood, tested or moved alone. Type-only imports
 * count too (see test/support/import-graph.ts).
 */
import path from "node:path";
import {
  buildImportGraph,
  findImportCycles,
  formatCycle,
  isTestFile,
  listTsFiles,
  REPO_ROOT,
} from "../support/import-graph";

const libraryFiles = listTsFiles(path.join(REPO_ROOT, "components")).filter((file) => !isTestFile(file));
const { graph, unresolved } = buildImportGraph(libraryFiles);

describe("components/ import graph", () => {
  it("reads the whole library (so an empty graph cannot pass)", () => {
    expect(libraryFiles.length).toBeGreaterThan(50);
    expect([...graph.values()].flat().length).toBeGreaterThan(libraryFiles.length);
  });

  it("resolves every relative import", () => {
    expect(unresolved).toEqual([]);
  });

  it("has no import cycles", () => {
    expect(findImportCycles(graph).map(formatCycle)).toEqual([]);
  });
});

describe("findImportCycles", () => {
  it("reports each cycle once, as a closed path from its smallest module", () => {
    const graph = new Map<string, string[]>([
      ["c", ["a"]],
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["d", ["d"]],
      ["e", ["a"]],
    ]);
    expect(findImportCycles(graph).map(formatCycle)).toEqual(["a → b → c → a", "d → d"]);
  });

  it("reports nothing for a graph without cycles", () => {
    const graph = new Map<string, string[]>([
      ["a", ["b", "c"]],
      ["b", ["c"]],
      ["c", []],
    ]);
    expect(findImportCycles(graph)).toEqual([]);
  });
});
