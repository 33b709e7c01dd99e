/**
 * Reads `pulumi up --json` (one engine event per line) on stdin, keeps every event in LOG, and
 * prints the demo's phases as they start and finish (tools/demo-phases.ts), with the engine's
 * warnings and errors, on stderr.
 * usage: pulumi up --json … | node -r ts-node/register/transpile-only tools/demo-progress.ts LOG
 */
import * as fs from "node:fs";
import * as readline from "node:readline";
import { IndentedJsonDocument, PhaseTracker, describePreview, type EngineEventLine } from "./demo-phases";

interface DiagnosticLine {
  readonly diagnosticEvent?: { readonly severity?: string; readonly message?: string; readonly urn?: string };
}

async function main(logFile: string): Promise<void> {
  const log = fs.createWriteStream(logFile, { mode: 0o600 });
  const tracker = new PhaseTracker();
  const preview = new IndentedJsonDocument();
  const say = (line: string): boolean => process.stderr.write(`[demo] ${line}\n`);
  for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    log.write(`${line}\n`);
    // The preview's document, told in one line rather than echoed.
    const gathered = preview.accept(line);
    if (gathered === "more") continue;
    if (gathered !== "none") {
      const described = describePreview(gathered.document);
      if (described) say(described);
      else process.stderr.write(`${gathered.text}\n`);
      continue;
    }
    let event: EngineEventLine & DiagnosticLine;
    try {
      event = JSON.parse(line) as EngineEventLine & DiagnosticLine;
    } catch {
      // Not an event (the CLI's own messages): show it as it is.
      if (line.trim()) process.stderr.write(`${line}\n`);
      continue;
    }
    for (const message of tracker.accept(event)) say(message);
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && (diagnostic.severity === "error" || diagnostic.severity === "warning")) {
      process.stderr.write(`${diagnostic.severity}: ${(diagnostic.message ?? "").trimEnd()}\n`);
    }
  }
  await new Promise<void>((resolve) => log.end(resolve));
}

const [logFile] = process.argv.slice(2);
if (!logFile) {
  process.stderr.write("usage: pulumi up --json … | demo-progress.ts LOG\n");
  process.exit(2);
}
void main(logFile);
