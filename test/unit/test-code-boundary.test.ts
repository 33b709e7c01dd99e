/**
 * The package as users install it is `dist/components` (package.json "files"), compiled from
 * components/ minus its *.test.ts (tsconfig.build.json). So library code must not import anything
 * outside components/ (test/ above all: tsc would compile it into dist, outside what is shipped),
 * and code only tests use belongs under test/, not in the library's folders.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  buildImportGraph,
  isTestFile,
  listTsFiles,
  REPO_ROOT,
  type ImportGraph,
} from "../support/import-graph";

/**
 * Library files known to break a rule, each with why; an entry that no longer breaks a rule fails
 * below, so the list cannot go stale.
 */
const KNOWN: Readonly<Record<string, string>> = {};

const SOURCE_DIRS = ["components", "test", "stacks", "tools", "playbooks"];
const isLibraryFile = (file: string): boolean => file.startsWith("components/") && !isTestFile(file);
/** Test code: unit tests beside the code, and everything under test/ (integration tests, support, benches). */
const isTestCode = (file: string): boolean => isTestFile(file) || file.startsWith("test/");

/** The package's entry points as sources: package.json "exports" and "bin", dist/X.js → X.ts. */
function entryPoints(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | { default: string }>;
    bin: Record<string, string>;
  };
  const targets = [
    ...Object.values(pkg.exports).map((target) => (typeof target === "string" ? target : target.default)),
    ...Object.values(pkg.bin),
  ];
  return targets
    .filter((target) => /^(\.\/)?dist\/.*\.js$/.test(target))
    .map((target) => target.replace(/^(\.\/)?dist\//, "").replace(/\.js$/, ".ts"));
}

function reachableFrom(graph: ImportGraph, roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...(graph.get(file) ?? []));
  }
  return seen;
}

const files = SOURCE_DIRS.flatMap((dir) => listTsFiles(path.join(REPO_ROOT, dir)));
const { graph, unresolved } = buildImportGraph(files);
const libraryFiles = files.filter(isLibraryFile);

/** Library imports that leave components/, as `file → target`. */
function escapingImports(): string[] {
  return libraryFiles.flatMap((file) =>
    (graph.get(file) ?? [])
      .filter((target) => !target.startsWith("components/"))
      .map((target) => `${file} → ${target}`),
  );
}

/** Library files reachable from test code but neither from the package's entry points nor the repo's programs. */
function testOnlyLibraryFiles(): string[] {
  // Used for real: reachable from what the package exports, or from the repo's own non-test programs.
  const programs = files.filter((file) => !isTestCode(file) && !file.startsWith("components/"));
  const used = reachableFrom(graph, [...entryPoints(), ...programs]);
  const usedByTests = reachableFrom(graph, files.filter(isTestCode));
  return libraryFiles.filter((file) => !used.has(file) && usedByTests.has(file));
}

const notKnown = (line: string): boolean => !(line.split(" → ")[0] in KNOWN);

describe("test code stays out of the library", () => {
  it("every relative import resolves to a source file (so no edge is missed below)", () => {
    expect(unresolved).toEqual([]);
  });

  it("the package's entry points are found", () => {
    const entries = entryPoints();
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.filter((entry) => !graph.has(entry))).toEqual([]);
  });

  it("no library file under components/ imports anything outside components/ (test/ least of all)", () => {
    expect(escapingImports().filter(notKnown)).toEqual([]);
  });

  it("no library file under components/ is used only by tests (test helpers belong in test/support/)", () => {
    expect(testOnlyLibraryFiles().filter(notKnown)).toEqual([]);
  });

  it("every known exception still breaks a rule (remove its entry once it does not)", () => {
    const breaking = new Set([
      ...escapingImports().map((line) => line.split(" → ")[0]),
      ...testOnlyLibraryFiles(),
    ]);
    expect(Object.keys(KNOWN).filter((file) => !breaking.has(file))).toEqual([]);
  });
});
