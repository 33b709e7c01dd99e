/**
 * Typed, position-keeping access to the YAML tree. Every read records where each path sits in the
 * file, reports a problem instead of throwing, and returns `undefined` for a value it could not
 * accept, so validation carries on and reports every problem in one run.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import type { TopologyIssue } from "./errors";
import { childPath, indexPath, ROOT_PATH } from "./paths";
import { didYouMean } from "./suggest";
import { keyText, type Position, type YamlSource } from "./yaml-source";

/** A value to check: returns what is wrong (and what to do), or undefined when it is fine. */
export type Check<T> = (value: T) => string | undefined;

export interface Entry {
  readonly name: string;
  readonly node: unknown;
  readonly path: string;
}

export interface KeySpec {
  readonly required?: readonly string[];
  readonly optional?: readonly string[];
}

const START: Position = { line: 1, col: 1 };

function describe(node: unknown): string {
  if (isMap(node)) return "a map";
  if (isSeq(node)) return "a list";
  if (!isScalar(node) || node.value === null || node.value === undefined) return "nothing (null)";
  const value = node.value;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${node.source ?? String(value)}`;
  if (typeof value === "boolean") return `the boolean ${String(value)}`;
  return `a ${typeof value}`;
}

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

export class Reader {
  readonly issues: TopologyIssue[] = [];
  private readonly valuePositions = new Map<string, Position>();
  private readonly keyPositions = new Map<string, Position>();
  private readonly parents = new Map<string, string>();

  constructor(private readonly source: YamlSource) {
    this.record(ROOT_PATH, source.doc.contents, undefined, undefined);
  }

  /** True for a missing or null value (`key:` with nothing after it). */
  isEmpty(node: unknown): boolean {
    return isNull(this.resolve(node));
  }

  /** The topology file as given (messages name it; relative controller paths are read from its directory). */
  get file(): string {
    return this.source.file;
  }

  get root(): unknown {
    return this.source.doc.contents;
  }

  // ---- positions and reporting -------------------------------------------------------------

  private record(path: string, node: unknown, key: unknown, parent: string | undefined): void {
    const valueRange = (node as Node | null | undefined)?.range;
    if (valueRange) this.valuePositions.set(path, this.source.position(valueRange[0]));
    const keyRange = (key as Node | null | undefined)?.range;
    if (keyRange) this.keyPositions.set(path, this.source.position(keyRange[0]));
    if (parent !== undefined) this.parents.set(path, parent);
  }

  /** Position of the node at `path`, else of its key, else of the nearest recorded ancestor. */
  positionOf(path: string): Position {
    for (let p: string | undefined = path; p !== undefined; p = this.parents.get(p)) {
      const found = this.valuePositions.get(p) ?? this.keyPositions.get(p);
      if (found) return found;
    }
    return START;
  }

  /** Position of the key naming `path` (where a missing child is reported), else of the node. */
  keyPositionOf(path: string): Position {
    return this.keyPositions.get(path) ?? this.positionOf(path);
  }

  private push(at: Position, path: string, message: string): void {
    this.issues.push({ file: this.source.file, line: at.line, col: at.col, path, message });
  }

  /** A problem with the value at `path`. */
  report(path: string, message: string): void {
    this.push(this.positionOf(path), path, message);
  }

  /** A problem with the key (name) of the entry at `path`. */
  reportKey(path: string, message: string): void {
    this.push(this.keyPositionOf(path), path, message);
  }

  /** A problem reported at `path` but placed at another node (e.g. a missing field at its parent's key). */
  reportAt(placeAt: string, path: string, message: string): void {
    this.push(this.keyPositionOf(placeAt), path, message);
  }

  private typeError(node: unknown, path: string, expected: string, hint = ""): undefined {
    this.report(path, `expected ${expected}, got ${describe(node)}${hint}`);
    return undefined;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.source.doc) : node;
  }

  // ---- structure ---------------------------------------------------------------------------

  /**
   * A map with a fixed set of keys. Unknown keys are reported (with a suggestion), missing
   * required keys are reported at this map's key. Returns the children by key.
   */
  fields(node: unknown, path: string, spec: KeySpec, what: string): Map<string, unknown> | undefined {
    const map = this.resolve(node);
    if (!isMap(map)) return this.typeError(map, path, `${what} (a map)`);
    const required = spec.required ?? [];
    const known = [...required, ...(spec.optional ?? [])];
    const children = new Map<string, unknown>();
    for (const pair of map.items) {
      if (!isPair(pair)) continue;
      const key = keyText(pair.key);
      if (key === undefined) {
        this.report(path, `keys of ${what} must be plain names, got ${describe(pair.key)}`);
        continue;
      }
      const child = childPath(path, key);
      if (children.has(key)) continue; // duplicate: already reported by the YAML parser
      this.record(child, pair.value, pair.key, path);
      if (!known.includes(key)) {
        const allowed = known.length > 0 ? `; allowed keys: ${known.join(", ")}` : "";
        this.reportKey(child, `unknown key "${key}" in ${what}${didYouMean(key, known)}${allowed}`);
        continue;
      }
      children.set(key, this.resolve(pair.value));
    }
    for (const key of required) {
      if (!children.has(key)) {
        this.reportAt(path, childPath(path, key), `${what} needs "${key}"; add ${key}: …`);
      }
    }
    return children;
  }

  /** A map keyed by user-chosen names (hosts, vms, …); null means empty. Entries in file order. */
  entries(node: unknown, path: string, what: string): Entry[] {
    const map = this.resolve(node);
    if (isNull(map)) return [];
    if (!isMap(map)) return this.typeError(map, path, `${what} (a map keyed by name)`) ?? [];
    const result: Entry[] = [];
    const seen = new Set<string>();
    for (const pair of map.items) {
      if (!isPair(pair)) continue;
      const name = keyText(pair.key);
      if (name === undefined) {
        this.report(path, `names in ${what} must be plain strings, got ${describe(pair.key)}`);
        continue;
      }
      if (seen.has(name)) continue; // duplicate: already reported by the YAML parser
      seen.add(name);
      const entryPath = childPath(path, name);
      this.record(entryPath, pair.value, pair.key, path);
      result.push({ name, node: this.resolve(pair.value), path: entryPath });
    }
    return result;
  }

  /** A list; null means empty. */
  list(node: unknown, path: string, what: string): Entry[] {
    const seq = this.resolve(node);
    if (isNull(seq)) return [];
    if (!isSeq(seq)) return this.typeError(seq, path, `${what} (a list)`) ?? [];
    return seq.items.map((item, index) => {
      const itemPath = indexPath(path, index);
      this.record(itemPath, item, undefined, path);
      return { name: String(index), node: this.resolve(item), path: itemPath };
    });
  }

  // ---- scalars -----------------------------------------------------------------------------

  private checked<T>(value: T, path: string, check?: Check<T>): T | undefined {
    const problem = check?.(value);
    if (problem === undefined) return value;
    this.report(path, problem);
    return undefined;
  }

  string(node: unknown, path: string, what: string, check?: Check<string>): string | undefined {
    if (!isScalar(node) || typeof node.value !== "string") return this.typeError(node, path, what);
    return this.checked(node.value, path, check);
  }

  /**
   * A string that may look like a number (git refs, driver versions): taken as written, so that
   * `5.10` stays "5.10" instead of becoming the number 5.1.
   */
  text(node: unknown, path: string, what: string, check?: Check<string>): string | undefined {
    if (isScalar(node) && typeof node.value === "number" && typeof node.source === "string") {
      return this.checked(node.source, path, check);
    }
    return this.string(node, path, what, check);
  }

  integer(node: unknown, path: string, what: string, min: number, max: number): number | undefined {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    if (!isScalar(node) || typeof node.value !== "number" || !Number.isInteger(node.value)) {
      const quoted = isScalar(node) && typeof node.value === "string" && /^\d+$/.test(node.value);
      return this.typeError(node, path, `${what}: an integer ${range}`, quoted ? "; remove the quotes" : "");
    }
    if (node.value < min || node.value > max) {
      this.report(path, `${what} must be an integer ${range}, got ${node.value}`);
      return undefined;
    }
    return node.value;
  }

  boolean(node: unknown, path: string, what: string): boolean | undefined {
    if (!isScalar(node) || typeof node.value !== "boolean") {
      return this.typeError(node, path, `${what}: true or false`);
    }
    return node.value;
  }

  oneOf<T extends string>(node: unknown, path: string, what: string, values: readonly T[]): T | undefined {
    const options = values.join(" or ");
    if (!isScalar(node) || typeof node.value !== "string")
      return this.typeError(node, path, `${what}: ${options}`);
    const value = node.value;
    const match = values.find((candidate) => candidate === value);
    if (match === undefined) {
      this.report(path, `${what} must be ${options}, got "${value}"${didYouMean(value, values)}`);
    }
    return match;
  }
}
