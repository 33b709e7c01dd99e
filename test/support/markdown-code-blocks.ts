/**
 * Fenced code blocks of a Markdown file, for the tests that execute the docs' examples
 * (test/unit/docs-snippets.test.ts, test/unit/docs-cli-examples.test.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./import-graph";

export interface CodeBlock {
  /** Repo-relative path of the Markdown file. */
  readonly doc: string;
  /** The info string's first word ("ts", "sh", "" for a plain block). */
  readonly lang: string;
  /** 1-based line, in the Markdown file, of the block's first code line. */
  readonly firstLine: number;
  readonly code: string;
  /** The block right after this one, when only blank lines lie between (a command's shown output). */
  readonly next?: CodeBlock;
}

/** Top-level fences only (``` at column 0): the docs indent no example they mean to be run. */
const FENCE = /^```(\S*)/;

export function codeBlocks(doc: string): CodeBlock[] {
  const lines = readFileSync(path.join(REPO_ROOT, doc), "utf8").split("\n");
  const found: { lang: string; firstLine: number; code: string; closedAt: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const close = lines.findIndex((line, j) => j > i && line.startsWith("```"));
    if (close < 0) throw new Error(`${doc}:${i + 1}: code block never closed`);
    found.push({
      lang: open[1],
      firstLine: i + 2,
      code: lines.slice(i + 1, close).join("\n"),
      closedAt: close,
    });
    i = close;
  }
  // Built from the last block back, so each block can point at the one after it.
  const blocks: CodeBlock[] = [];
  for (let k = found.length - 1; k >= 0; k--) {
    const { lang, firstLine, code, closedAt } = found[k];
    const after = blocks[0];
    const adjacent =
      after !== undefined &&
      lines.slice(closedAt + 1, after.firstLine - 2).every((line) => line.trim() === "");
    blocks.unshift({ doc, lang, firstLine, code, ...(adjacent ? { next: after } : {}) });
  }
  return blocks;
}
