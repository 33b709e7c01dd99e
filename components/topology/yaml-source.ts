/**
 * YAML text → document tree, with positions. YAML's own errors (syntax, duplicate keys) are turned
 * into topology issues in the same `FILE:LINE:COL: PATH: message` form as every other problem.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import type { TopologyIssue } from "./errors";
import { childPath, indexPath, ROOT_PATH } from "./paths";

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  /** Issues reported by the YAML parser itself. */
  readonly issues: readonly TopologyIssue[];
  /** True when the tree cannot be trusted (anything worse than a duplicate key). */
  readonly unusable: boolean;
  position(offset: number): Position;
}

/** Text of a scalar key as written, so `1:` and `"1":` both name "1". */
export function keyText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.source === "string") return node.source;
  return node.value === null ? undefined : String(node.value);
}

/** Path of the deepest node whose range contains `offset`, for YAML errors that only have an offset. */
function pathAt(node: unknown, offset: number, path: string): string {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      const value = pair.value as Node | null;
      const here = key === undefined ? path : childPath(path, key);
      if (keyRange && offset >= keyRange[0] && offset <= keyRange[1]) return here;
      if (value?.range && offset >= value.range[0] && offset <= value.range[2])
        return pathAt(value, offset, here);
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const item = node.items[i] as Node | null;
      if (item?.range && offset >= item.range[0] && offset <= item.range[2]) {
        return pathAt(item, offset, indexPath(path, i));
      }
    }
  }
  return path;
}

function duplicateKeyMessage(source: string, offset: number): string {
  const match = /^["']?([^"':\n]*)/.exec(source.slice(offset));
  const key = match?.[1]?.trim() ?? "";
  return (
    `duplicate key "${key}": a key may appear only once in a map (YAML would silently keep one of ` +
    `them); rename or merge the two entries`
  );
}

export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  let unusable = false;
  const issues: TopologyIssue[] = [];
  const seen = new Set<string>();
  for (const error of doc.errors) {
    const offset = error.pos[0];
    const { line, col } = position(offset);
    const path = pathAt(doc.contents, offset, ROOT_PATH);
    if (error.code === "DUPLICATE_KEY") {
      issues.push({ file, line, col, path, message: duplicateKeyMessage(text, offset) });
      continue;
    }
    unusable = true;
    // One syntax error often yields several at the same spot; the first says it best.
    if (seen.has(`${line}:${col}`)) continue;
    seen.add(`${line}:${col}`);
    // The tree around a syntax error is the parser's guess, so name only the top-level section.
    // A "key" that is not a name (a line of prose taken as one) would only quote the prose back.
    const head = /^[^.[]+/.exec(path)?.[0];
    const section = head !== undefined && /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(head) ? head : ROOT_PATH;
    const message = `YAML syntax error: ${error.message.split("\n")[0]}; fix the indentation, quotes or brackets here`;
    issues.push({ file, line, col, path: section, message });
  }
  return { file, doc, issues, unusable, position };
}
