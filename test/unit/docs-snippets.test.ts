/**
 * The TypeScript examples in README.md and docs/components.md type-check against the library as
 * users import it: `netmap-testbed` and its subpaths resolve (tsconfig `paths`) to the sources
 * behind package.json "exports", in strict mode. Each snippet is written to a temporary folder
 * inside the repo, so `@pulumi/pulumi` and the other packages resolve from the repo's node_modules.
 *
 * skipLibCheck is off here (tsconfig.json turns it on): the declaration files a user's program
 * sees, @pulumi/pulumi's and Node's, are checked with the snippets.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "../support/import-graph";
import { codeBlocks, type CodeBlock } from "../support/markdown-code-blocks";

const DOCS = ["README.md", "docs/components.md"];
const TS_LANGS = new Set(["ts", "typescript"]);

/** package.json "exports" as tsconfig `paths`: `netmap-testbed/X` → the .ts source of its types. */
function packagePaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, string | { types: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const file = typeof target === "string" ? target : target.types;
    const match = /^\.\/dist\/(.+)\.(?:d\.ts|js)$/.exec(file);
    if (!match) continue; // ./package.json
    paths[path.posix.join(pkg.name, subpath)] = [path.join(REPO_ROOT, `${match[1]}.ts`)];
  }
  return paths;
}

/** The project's own compiler options (tsconfig.json), as a user's strict program would see the library. */
function snippetOptions(): ts.CompilerOptions {
  const read = ts.readConfigFile(path.join(REPO_ROOT, "tsconfig.json"), (file) => ts.sys.readFile(file));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  const { options } = ts.parseJsonConfigFileContent(read.config, ts.sys, REPO_ROOT);
  return {
    ...options,
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    types: ["node"], // not jest's globals: a user's program has none
    // An example may declare a value only to show it; the project's unused-code rules are for the project.
    noUnusedLocals: false,
    noUnusedParameters: false,
    baseUrl: REPO_ROOT,
    paths: packagePaths(),
  };
}

interface Snippet {
  readonly name: string;
  readonly block: CodeBlock;
  readonly file: string;
}

/** Diagnostics of one program over every snippet, keyed by snippet file, as `DOC:LINE:COL: message`. */
function typeCheck(snippets: readonly Snippet[]): Map<string, string[]> {
  const program = ts.createProgram(
    snippets.map((snippet) => snippet.file),
    snippetOptions(),
  );
  const byFile = new Map<string, string[]>(snippets.map((snippet) => [snippet.file, []]));
  const elsewhere: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    const snippet = snippets.find((candidate) => candidate.file === diagnostic.file?.fileName);
    if (snippet && diagnostic.start !== undefined) {
      const at = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
      byFile
        .get(snippet.file)!
        .push(
          `${snippet.block.doc}:${snippet.block.firstLine + at.line}:${at.character + 1}: TS${diagnostic.code}: ${message}`,
        );
    } else {
      elsewhere.push(`${diagnostic.file?.fileName ?? "(options)"}: TS${diagnostic.code}: ${message}`);
    }
  }
  // Errors in the library itself or in the options belong to every snippet's verdict.
  for (const list of byFile.values()) list.push(...elsewhere);
  return byFile;
}

const blocks = DOCS.flatMap(codeBlocks).filter((block) => TS_LANGS.has(block.lang));
let workDir = "";
let snippets: Snippet[] = [];
let diagnostics = new Map<string, string[]>();

beforeAll(() => {
  mkdirSync(path.join(REPO_ROOT, ".cache"), { recursive: true });
  workDir = mkdtempSync(path.join(REPO_ROOT, ".cache", "docs-snippets-"));
  snippets = blocks.map((block, index) => {
    const file = path.join(workDir, `${path.basename(block.doc, ".md")}-${index}.ts`);
    // `export {}` makes every snippet a module, so top-level names of two snippets cannot clash.
    writeFileSync(file, `${block.code}\nexport {};\n`);
    return { name: `${block.doc}:${block.firstLine}`, block, file };
  });
  diagnostics = typeCheck(snippets);
}, 120_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("TypeScript examples in the docs", () => {
  it("are found (README.md and docs/components.md each show one)", () => {
    for (const doc of DOCS) expect(blocks.filter((block) => block.doc === doc).length).toBeGreaterThan(0);
  });

  it.each(blocks.map((block) => `${block.doc}:${block.firstLine}`))(
    "%s type-checks in strict mode",
    (name) => {
      const snippet = snippets.find((candidate) => candidate.name === name)!;
      expect(diagnostics.get(snippet.file)).toEqual([]);
    },
  );
});
