/**
 * Tuning recommended by the netmap authors for measurements, applied before the runs and restored
 * afterwards, with what was found and what was done recorded for the manifest:
 * - flow control off on the NICs on the path (`ethtool -A IF autoneg off rx off tx off`);
 * - offloads off on those NICs (`ethtool -K IF tso off gso off gro off lro off rx off tx off sg off`);
 * - cpufreq governor (default "performance") on every CPU of the machines involved.
 * Machines without a setting (veths, ptnet NICs without pause frames, VMs without cpufreq) are
 * recorded as "unsupported" and the runs go on.
 */
import type { Machine } from "./machines";
import type { TuningSpec } from "./model";
import {
  parseGovernors,
  parseOffloads,
  parsePause,
  type FeatureState,
  type PauseState,
} from "./tuning-parse";

export interface TuningTarget {
  readonly machine: Machine;
  /** Interfaces on this machine whose flow control and offloads are tuned. */
  readonly interfaces: readonly string[];
}

export type TuningOutcome = "applied" | "unchanged" | "unsupported" | "failed" | "kept";

export interface TuningAction {
  readonly machine: string;
  /** "flowControl", "offloads" or "governor". */
  readonly setting: string;
  /** Interface, or "cpus" for the governor. */
  readonly target: string;
  readonly outcome: TuningOutcome;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly message?: string;
  /** Set once restore ran: what restoring did. */
  restored?: TuningOutcome;
  restoreMessage?: string;
}

const GOVERNORS_READ =
  'for f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do [ -r "$f" ] && printf "%s %s\\n" "$f" "$(cat "$f")"; done; true';
const GOVERNORS_WRITE = 'while [ "$#" -ge 2 ]; do printf "%s\\n" "$2" >"$1" || exit 1; shift 2; done';

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

async function tuneFlowControl(machine: Machine, iface: string): Promise<TuningAction> {
  const base = { machine: machine.name, setting: "flowControl", target: iface };
  const read = await machine.session.run("tuning:pause", ["ethtool", "-a", iface], { timeoutMs: 15_000 });
  const before = read.code === 0 ? parsePause(read.stdout) : undefined;
  if (!before) return { ...base, outcome: "unsupported", message: firstLine(read.stderr || read.stdout) };
  if (before.autoneg === "off" && before.rx === "off" && before.tx === "off") {
    return { ...base, outcome: "unchanged", before };
  }
  const set = await machine.session.run(
    "tuning:pause",
    ["ethtool", "-A", iface, "autoneg", "off", "rx", "off", "tx", "off"],
    { timeoutMs: 15_000 },
  );
  const after: PauseState = { autoneg: "off", rx: "off", tx: "off" };
  return set.code === 0
    ? { ...base, outcome: "applied", before, after }
    : { ...base, outcome: "failed", before, message: firstLine(set.stderr || set.stdout) };
}

async function tuneOffloads(machine: Machine, iface: string): Promise<TuningAction> {
  const base = { machine: machine.name, setting: "offloads", target: iface };
  const read = await machine.session.run("tuning:offloads", ["ethtool", "-k", iface], { timeoutMs: 15_000 });
  const before = read.code === 0 ? parseOffloads(read.stdout) : {};
  const changeable = Object.entries(before).filter(([, state]) => state.on && !state.fixed);
  if (Object.keys(before).length === 0) {
    return { ...base, outcome: "unsupported", message: firstLine(read.stderr || read.stdout) };
  }
  if (changeable.length === 0) return { ...base, outcome: "unchanged", before };
  const set = await machine.session.run(
    "tuning:offloads",
    ["ethtool", "-K", iface, ...changeable.flatMap(([name]) => [name, "off"])],
    { timeoutMs: 15_000 },
  );
  const reread = await machine.session.run("tuning:offloads", ["ethtool", "-k", iface], {
    timeoutMs: 15_000,
  });
  const after = parseOffloads(reread.stdout);
  const stillOn = changeable.filter(([name]) => after[name]?.on).map(([name]) => name);
  const outcome: TuningOutcome = stillOn.length === changeable.length ? "failed" : "applied";
  const message =
    stillOn.length > 0
      ? `could not turn off ${stillOn.join(", ")}: ${firstLine(set.stderr || set.stdout)}`
      : undefined;
  return { ...base, outcome, before, after, ...(message ? { message } : {}) };
}

async function tuneGovernor(machine: Machine, governor: string): Promise<TuningAction> {
  const base = { machine: machine.name, setting: "governor", target: "cpus" };
  const read = await machine.session.run("tuning:governor", ["sh", "-c", GOVERNORS_READ], {
    timeoutMs: 15_000,
  });
  const before = parseGovernors(read.stdout);
  const paths = Object.keys(before);
  if (paths.length === 0)
    return { ...base, outcome: "unsupported", message: "no cpufreq scaling_governor files" };
  const change = paths.filter((path) => before[path] !== governor);
  if (change.length === 0) return { ...base, outcome: "unchanged", before };
  const set = await machine.session.run(
    "tuning:governor",
    ["sh", "-c", GOVERNORS_WRITE, "sh", ...change.flatMap((path) => [path, governor])],
    { timeoutMs: 15_000 },
  );
  const after = Object.fromEntries(
    paths.map((path) => [path, change.includes(path) ? governor : before[path]]),
  );
  return set.code === 0
    ? { ...base, outcome: "applied", before, after }
    : { ...base, outcome: "failed", before, message: firstLine(set.stderr) || `exit ${set.code}` };
}

/** Applies the tuning to every target; never throws for a setting a machine does not have. */
export async function applyTuning(
  tuning: TuningSpec,
  targets: readonly TuningTarget[],
): Promise<TuningAction[]> {
  const actions: TuningAction[] = [];
  for (const target of targets) {
    for (const iface of target.interfaces) {
      actions.push(
        tuning.flowControl === "off"
          ? await tuneFlowControl(target.machine, iface)
          : { machine: target.machine.name, setting: "flowControl", target: iface, outcome: "kept" },
      );
      actions.push(
        tuning.offloads === "off"
          ? await tuneOffloads(target.machine, iface)
          : { machine: target.machine.name, setting: "offloads", target: iface, outcome: "kept" },
      );
    }
    actions.push(
      tuning.governor !== "keep"
        ? await tuneGovernor(target.machine, tuning.governor)
        : { machine: target.machine.name, setting: "governor", target: "cpus", outcome: "kept" },
    );
  }
  return actions;
}

async function restoreOne(machine: Machine, action: TuningAction): Promise<void> {
  let argv: string[] | undefined;
  if (action.setting === "flowControl") {
    const before = action.before as PauseState;
    argv = ["ethtool", "-A", action.target, "autoneg", before.autoneg, "rx", before.rx, "tx", before.tx];
  } else if (action.setting === "offloads") {
    const before = action.before as Record<string, FeatureState>;
    const after = (action.after ?? {}) as Record<string, FeatureState>;
    const back = Object.entries(before).filter(
      ([name, state]) => state.on && !state.fixed && after[name]?.on === false,
    );
    if (back.length > 0) argv = ["ethtool", "-K", action.target, ...back.flatMap(([name]) => [name, "on"])];
  } else if (action.setting === "governor") {
    const before = action.before as Record<string, string>;
    argv = [
      "sh",
      "-c",
      GOVERNORS_WRITE,
      "sh",
      ...Object.entries(before).flatMap(([path, gov]) => [path, gov]),
    ];
  }
  if (!argv) {
    action.restored = "unchanged";
    return;
  }
  const result = await machine.session.run(`tuning:restore:${action.setting}`, argv, { timeoutMs: 15_000 });
  action.restored = result.code === 0 ? "applied" : "failed";
  if (result.code !== 0) action.restoreMessage = firstLine(result.stderr || result.stdout);
}

/** Restores what applyTuning changed, in reverse order; records the outcome on each action. */
export async function restoreTuning(
  actions: readonly TuningAction[],
  targets: readonly TuningTarget[],
): Promise<void> {
  for (const action of [...actions].reverse()) {
    if (action.outcome !== "applied" && !(action.outcome === "failed" && action.before !== undefined))
      continue;
    const target = targets.find((candidate) => candidate.machine.name === action.machine);
    if (!target) continue;
    try {
      await restoreOne(target.machine, action);
    } catch (error) {
      action.restored = "failed";
      action.restoreMessage = (error as Error).message;
    }
  }
}
