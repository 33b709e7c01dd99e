/**
 * What a process and everything it starts (for the engine: the CLI, the language host, the
 * program and the provider processes) use, sampled from /proc: the peak of the tree's summed
 * resident sets, and the CPU time of each process as last seen, summed by a role its command line
 * gives it. Sampling misses peaks shorter than its period, and the CPU a process used after its
 * last sample: both figures are lower bounds.
 */
import * as fs from "node:fs";

/** USER_HZ: /proc reports times in these ticks, 100 a second on every Linux ABI. */
const TICKS_PER_SECOND = 100;

interface ProcessSample {
  readonly ppid: number;
  readonly rssKiB: number;
  readonly cpuSeconds: number;
  readonly command: string;
}

/** Every process's parent, resident set, CPU time and command line, from /proc. */
function processTable(): Map<number, ProcessSample> {
  const table = new Map<number, ProcessSample>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name (field 2) may hold spaces and parentheses: fields after its last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${entry}/status`, "utf8"));
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        rssKiB: Number(rss?.[1] ?? 0),
        cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
        command: fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" "),
      });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return table;
}

/** The processes of the tree under `root`, itself included. */
function tree(table: Map<number, ProcessSample>, root: number): Array<[number, ProcessSample]> {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: Array<[number, ProcessSample]> = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    const sample = table.get(pid);
    if (sample) found.push([pid, sample]);
    pending.push(...(children.get(pid) ?? []));
  }
  return found;
}

export interface TreeFigures {
  readonly peakRssKiB: number;
  /** CPU seconds by role (`role(command)`), each process as last sampled. */
  readonly cpuByRole: Readonly<Record<string, number>>;
}

/**
 * Samples the tree under `root` every `periodMs` until stopped. `role` names what a command line
 * is (e.g. "engine", "program", "provider").
 */
export function sampleTree(
  root: number,
  role: (command: string) => string,
  periodMs = 200,
): { stop(): TreeFigures } {
  let peak = 0;
  const lastCpu = new Map<number, { role: string; cpuSeconds: number }>();
  const sample = (): void => {
    const processes = tree(processTable(), root);
    peak = Math.max(
      peak,
      processes.reduce((sum, [, p]) => sum + p.rssKiB, 0),
    );
    for (const [pid, p] of processes) {
      // An exited process (a zombie until reaped) shows no command line: it keeps the role its
      // last one gave it.
      const name = p.command.trim() !== "" ? role(p.command) : (lastCpu.get(pid)?.role ?? role(""));
      lastCpu.set(pid, { role: name, cpuSeconds: p.cpuSeconds });
    }
  };
  sample();
  const timer = setInterval(sample, periodMs);
  return {
    stop: () => {
      clearInterval(timer);
      const cpuByRole: Record<string, number> = {};
      for (const { role: name, cpuSeconds } of lastCpu.values())
        cpuByRole[name] = (cpuByRole[name] ?? 0) + cpuSeconds;
      return { peakRssKiB: peak, cpuByRole };
    },
  };
}
