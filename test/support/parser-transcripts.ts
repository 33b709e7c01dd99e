/**
 * Reads the sample transcripts in components/parsers/__fixtures__/ (`### $ CMD`, `--- stdout:`, `--- stderr:`, `--- rc=N`;
 * a `$` marks the end of each captured output line) into calls, for the parser tests.
 */
import * as fs from "fs";
import * as path from "path";

export interface TranscriptCall {
  readonly command: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly rc: number;
}

/**
 * The recordings stay beside the parser tests that read them (they are data, never compiled into
 * dist); this reader is code, so it lives with the other test support.
 */
const PARSER_FIXTURES_DIR = path.resolve(__dirname, "..", "..", "components", "parsers", "__fixtures__");

/** A file in components/parsers/__fixtures__/ by name, or any file by absolute path (e.g. test/fixtures/recorded/…). */
export function fixture(name: string): string {
  return fs.readFileSync(path.resolve(PARSER_FIXTURES_DIR, name), "utf8");
}

export function readTranscript(name: string): TranscriptCall[] {
  const calls: TranscriptCall[] = [];
  let current: { command: string; stdout: string[]; stderr: string[]; rc: number | null } | null = null;
  let section: "stdout" | "stderr" | null = null;
  const flush = (): void => {
    if (current && current.rc !== null) {
      calls.push({
        command: current.command,
        stdout: current.stdout.join(""),
        stderr: current.stderr.join(""),
        rc: current.rc,
      });
    }
  };
  for (const line of fixture(name).split("\n")) {
    const cmd = /^### \$ (.*)$/.exec(line);
    if (cmd) {
      flush();
      current = { command: cmd[1], stdout: [], stderr: [], rc: null };
      section = null;
      continue;
    }
    if (line.startsWith("### ")) {
      flush();
      current = null;
      section = null;
      continue;
    }
    if (!current) continue;
    if (line === "--- stdout:") section = "stdout";
    else if (line === "--- stderr:") section = "stderr";
    else if (line.startsWith("--- rc=")) {
      current.rc = Number(line.slice("--- rc=".length));
      section = null;
    } else if (section && line.endsWith("$")) {
      current[section].push(line.slice(0, -1) + "\n");
    }
  }
  flush();
  return calls;
}
