/**
 * Problems found in a topology file, reported the way compilers do (`FILE:LINE:COL: PATH: message`)
 * so editors and CI logs can jump straight to the offending node.
 */

export interface TopologyIssue {
  readonly file: string;
  /** 1-based line of the offending node (for a missing field: of its parent's key). */
  readonly line: number;
  /** 1-based column, counted like `line`. */
  readonly col: number;
  /** Where in the document, e.g. `vms.vm1.nics[1].pipe`; `$` is the document itself. */
  readonly path: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

export function formatIssue(issue: TopologyIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.path}: ${issue.message}`;
}

/** Issues in document order, so the report reads top to bottom like the file. */
export function sortIssues(issues: readonly TopologyIssue[]): TopologyIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path));
}

/** Thrown by `parseTopology`/`loadTopology`; carries every issue, not only the first. */
export class TopologyError extends Error {
  readonly issues: readonly TopologyIssue[];

  constructor(issues: readonly TopologyIssue[]) {
    const lines = issues.map(formatIssue);
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super(`invalid topology (${count}):\n${lines.join("\n")}`);
    this.name = "TopologyError";
    this.issues = issues;
  }
}
