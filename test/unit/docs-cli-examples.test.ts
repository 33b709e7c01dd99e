/**
 * The CLI examples in README.md and docs/ run as shown, against the built CLI (dist/, which
 * `npm test` builds before jest). Only commands that touch no host and no network: `validate`,
 * `plan` and `--help`. Each command line in a ```sh/```bash block, as `npm run netmap-testbed --`,
 * `npx netmap-testbed` or `netmap-testbed`, runs from the repo root and must exit 0, or the code a
 * trailing `# exits N` comment names. When a plain ``` block follows a block holding exactly one
 * such command, that block is the command's output and must match it exactly (stdout, then stderr).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../support/import-graph";
import { codeBlocks, type CodeBlock } from "../support/markdown-code-blocks";

const BIN = path.join(REPO_ROOT, "dist", "components", "cli", "main.js");
const DOCS = [
  "README.md",
  ...readdirSync(path.join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);
const INVOCATION = /^(?:npm run netmap-testbed --|npx netmap-testbed|netmap-testbed)\s+(.*)$/;
/** Subcommands that read files only: never a host, never the network. */
const HOST_FREE = /^(?:validate|plan)\b|^--help$|^(?:validate|plan) --help$/;

interface Example {
  readonly where: string;
  readonly args: string[];
  readonly exitCode: number;
  readonly shownOutput?: string;
}

/** `validate a.yaml   # exits 1` → args and the exit code; undefined for other commands. */
function parseCommand(line: string): { args: string[]; exitCode: number } | undefined {
  const [command, comment = ""] = line.split(/\s+#\s*/, 2);
  const match = INVOCATION.exec(command.trim());
  if (!match || !HOST_FREE.test(match[1])) return undefined;
  if (/["'$`~\\|;&<>*]/.test(match[1])) {
    throw new Error(`cannot run "${line}" without a shell: keep CLI examples to plain words`);
  }
  const exits = /^exits (\d+)\b/.exec(comment);
  return { args: match[1].split(/\s+/), exitCode: exits ? Number(exits[1]) : 0 };
}

function examplesIn(block: CodeBlock): Example[] {
  const commands = block.code
    .split("\n")
    .map((line, offset) => ({ parsed: parseCommand(line), line: block.firstLine + offset }))
    .filter((entry) => entry.parsed !== undefined);
  const output = commands.length === 1 && block.next?.lang === "" ? block.next.code : undefined;
  return commands.map(({ parsed, line }) => ({
    where: `${block.doc}:${line}`,
    args: parsed!.args,
    exitCode: parsed!.exitCode,
    ...(output !== undefined ? { shownOutput: output } : {}),
  }));
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

const examples = DOCS.flatMap(codeBlocks)
  .filter((block) => SHELL_LANGS.has(block.lang))
  .flatMap(examplesIn);

describe("CLI examples in the docs", () => {
  it("are found: README's validate and plan, and at least one with its output shown", () => {
    expect(examples.map((example) => example.args[0])).toEqual(expect.arrayContaining(["validate", "plan"]));
    expect(examples.some((example) => example.shownOutput !== undefined)).toBe(true);
  });

  it("run against an up-to-date build (`npm run build`; `npm test` builds first)", () => {
    expect(existsSync(BIN) ? BIN : `${BIN} is missing`).toBe(BIN);
    const stale = statSync(BIN).mtimeMs < newestSourceMtime(path.join(REPO_ROOT, "components"));
    expect(stale ? "dist/ is older than components/" : "built").toBe("built");
  });

  it.each(examples.map((example) => [`${example.where}: netmap-testbed ${example.args.join(" ")}`, example]))(
    "%s",
    (_name, example) => {
      const result = spawnSync(process.execPath, [BIN, ...example.args], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      const printed = `${result.stdout}${result.stderr}`;
      expect({ exitCode: result.status, printed: result.status === example.exitCode ? "" : printed }).toEqual(
        {
          exitCode: example.exitCode,
          printed: "",
        },
      );
      if (example.shownOutput !== undefined) expect(printed.trimEnd()).toBe(example.shownOutput.trimEnd());
      else expect(printed.trim()).not.toBe("");
      // What the docs promise "for scripts" must parse as such.
      if (example.args.includes("--json")) expect(() => JSON.parse(result.stdout)).not.toThrow();
    },
  );
});
