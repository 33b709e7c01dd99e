/**
 * Follows `pulumi up --event-log FILE` while the engine runs and prints the demo's phases as they
 * start and finish (tools/demo-phases.ts); exits when the process it watches has exited and the
 * log is read to its end.
 * usage: node -r ts-node/register/transpile-only tools/demo-progress.ts EVENT_LOG PID
 */
import * as fs from "node:fs";
import { PhaseTracker, type EngineEventLine } from "./demo-phases";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function follow(file: string, pid: number): Promise<void> {
  const tracker = new PhaseTracker();
  let offset = 0;
  let partial = "";
  for (;;) {
    const running = alive(pid);
    if (fs.existsSync(file)) {
      const size = fs.statSync(file).size;
      if (size > offset) {
        const fd = fs.openSync(file, "r");
        const chunk = Buffer.alloc(size - offset);
        fs.readSync(fd, chunk, 0, chunk.length, offset);
        fs.closeSync(fd);
        offset = size;
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (!line.trim()) continue;
          let event: EngineEventLine;
          try {
            event = JSON.parse(line) as EngineEventLine;
          } catch {
            continue;
          }
          for (const message of tracker.accept(event)) process.stderr.write(`[demo] ${message}\n`);
        }
      }
    }
    if (!running) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const [file, pid] = process.argv.slice(2);
if (!file || !pid || !/^\d+$/.test(pid)) {
  process.stderr.write("usage: demo-progress.ts EVENT_LOG PID\n");
  process.exit(2);
}
void follow(file, Number(pid));
