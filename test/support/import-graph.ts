/**
 * The relative-import graph of a source tree, read with the TypeScript compiler's own import
 * scanner (`ts.preProcessFile`), so `import type`, `export … from`, `import x = require()` and
 * `import("…")` types all count: a type-only cycle still couples two modules' designs.
 * Used by test/unit/import-cycles.test.ts and test/unit/test-code-boundary.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A module's repo-relative path (forward slashes) → the repo-relative paths it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** An import that names a relative path no .ts file answers to. */
export interface UnresolvedImport {
  readonly from: string;
  readonly specifier: string;
}

export function isTestFile(relPath: string): boolean {
  return relPath.endsWith(".test.ts");
}

/** Every .ts file under `dir` (absolute), repo-relative, sorted; declaration files excluded. */
export function listTsFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(toRepoPath(full));
    }
  };
  walk(dir);
  return found.sort();
}

function toRepoPath(absolute: string): string {
  return path.relative(REPO_ROOT, absolute).split(path.sep).join("/");
}

/** How Node + TypeScript resolve a relative specifier to a source file: `x.ts`, then `x/index.ts`. */
function resolveRelative(fromAbs: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromAbs), specifier.replace(/\.js$/, ""));
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every specifier a file imports or re-exports (packages too), as the compiler's scanner reads them. */
export function importSpecifiers(fileAbs: string): string[] {
  const info = ts.preProcessFile(readFileSync(fileAbs, "utf8"), true, true);
  return info.importedFiles.map((ref) => ref.fileName);
}

/** The relative specifiers a file imports or re-exports. */
export function relativeSpecifiers(fileAbs: string): string[] {
  return importSpecifiers(fileAbs).filter((name) => name.startsWith("."));
}

/**
 * The graph over `files` (repo-relative). Edges may lead outside `files` (e.g. into test/);
 * only relative imports are followed: packages cannot import back into the repo.
 */
export function buildImportGraph(files: readonly string[]): {
  graph: ImportGraph;
  unresolved: UnresolvedImport[];
} {
  const graph = new Map<string, string[]>();
  const unresolved: UnresolvedImport[] = [];
  for (const file of files) {
    const abs = path.join(REPO_ROOT, file);
    const targets = new Set<string>();
    for (const specifier of relativeSpecifiers(abs)) {
      const resolved = resolveRelative(abs, specifier);
      if (resolved) targets.add(toRepoPath(resolved));
      else unresolved.push({ from: file, specifier });
    }
    graph.set(file, [...targets].sort());
  }
  return { graph, unresolved };
}

/** Strongly connected components with a cycle in them (Tarjan), restricted to the graph's own nodes. */
function cyclicComponents(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** The shortest path from `start` back to itself inside `members` (breadth first). */
function shortestCycleThrough(graph: ImportGraph, start: string, members: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  const seen = new Set<string>([start]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path: string[] = [start];
        for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}: not in a cyclic component`);
}

/**
 * Import cycles as paths `a → b → a`: for every module in a cycle, the shortest cycle through it,
 * each cycle once (rotated to start at its smallest path). Enough to see every edge to cut
 * without listing the exponentially many cycles a large component can hold.
 */
export function findImportCycles(graph: ImportGraph): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of cyclicComponents(graph)) {
    const members = new Set(component);
    for (const node of component) {
      const cycle = shortestCycleThrough(graph, node, members);
      const ring = cycle.slice(0, -1);
      const first = ring.indexOf([...ring].sort()[0]);
      const rotated = [...ring.slice(first), ...ring.slice(0, first)];
      cycles.set(rotated.join("\n"), [...rotated, rotated[0]]);
    }
  }
  return [...cycles.values()].sort((a, b) => a.join().localeCompare(b.join()));
}

export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(" → ");
}
