/**
 * The pipeline: playbook YAML → draft (shape and values) → topology loaded and endpoints resolved
 * → model. Every problem is reported as `FILE:LINE:COL: PATH: message`, all in one pass.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { planTestbed } from "../plan/plan-testbed";
import type { TestbedPlan } from "../plan/types";
import { checkTopology } from "../topology/check";
import { sortIssues, type TopologyIssue } from "../topology/errors";
import type { TopologyModel } from "../topology/model";
import { childPath, ROOT_PATH } from "../topology/paths";
import { Reader } from "../topology/reader";
import { parseYaml } from "../topology/yaml-source";
import { formatCpuList, isConsecutive } from "./cpu-list";
import { PAPER_SIZES, PLAYBOOK_API_VERSION, type PlaybookModel, type RunSpec } from "./model";
import { readPlaybook, type DraftPlaybook } from "./read-playbook";
import type { DraftRun, DraftRunOptions } from "./read-run";
import { checkPath, machineKey, resolveEndpoint, type ResolvedEndpoint } from "./resolve";

/** Built-in run options, used when neither the run nor `defaults` sets one. */
export const RUN_DEFAULTS = {
  sizes: PAPER_SIZES,
  duration: 10,
  warmup: 2,
  repetitions: 3,
  threads: 1,
  reportInterval: 1000,
} as const;

export interface PlaybookCheckOptions {
  /**
   * Topology file to use instead of the playbook's `topology` (the CLI's `--topology`/`--stack`).
   * Defaults to the playbook's `topology`, resolved relative to the playbook's directory.
   */
  readonly topologyFile?: string;
  /** Reads a file; defaults to `fs.readFileSync(file, "utf8")`. Tests replace it. */
  readonly readFile?: (file: string) => string;
}

export interface PlaybookCheck {
  /** Present exactly when `issues` is empty. */
  readonly model?: PlaybookModel;
  /** Every problem found: the playbook's and, when its topology is invalid, the topology's. */
  readonly issues: readonly TopologyIssue[];
}

/** Where the playbook's `topology` points, relative to the playbook file. */
export function playbookTopologyPath(playbookFile: string, topology: string): string {
  return path.isAbsolute(topology) ? topology : path.join(path.dirname(playbookFile), topology);
}

function loadTopologyFor(
  r: Reader,
  draft: DraftPlaybook,
  file: string,
  options: PlaybookCheckOptions,
): { model?: TopologyModel; file?: string; issues: TopologyIssue[] } {
  const topologyPath = childPath(ROOT_PATH, "topology");
  const target =
    options.topologyFile ??
    (draft.topology === undefined ? undefined : playbookTopologyPath(file, draft.topology));
  if (target === undefined) return { issues: [] };
  let text: string;
  try {
    text = (options.readFile ?? ((f: string) => readFileSync(f, "utf8")))(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const where =
      options.topologyFile !== undefined ? "given with --topology/--stack" : "relative to the playbook";
    r.report(topologyPath, `cannot read topology ${target} (${code}); the path is ${where}`);
    return { issues: [] };
  }
  const check = checkTopology(text, target);
  if (check.model === undefined) {
    r.report(
      topologyPath,
      `topology ${target} is invalid (${check.issues.length} problem(s), listed with its name); fix it first`,
    );
    return { issues: [...check.issues] };
  }
  return { model: check.model, file: target, issues: [] };
}

type Resolved<T> = { value: T; path: string };

function pick<K extends keyof DraftRunOptions>(
  run: DraftRun,
  defaults: DraftRunOptions,
  key: K,
): DraftRunOptions[K] {
  return run.options[key] ?? defaults[key];
}

function checkPins(
  r: Reader,
  run: DraftRun,
  threads: number,
  pins: readonly (Resolved<number[]> | undefined)[],
  sameMachine: boolean,
): void {
  for (const pin of pins) {
    if (pin === undefined) continue;
    if (pin.value.length !== threads) {
      r.report(
        pin.path,
        `${pin.value.length} CPU(s) for ${threads} thread(s); give one CPU per pkt-gen thread (threads: ${threads})`,
      );
    } else if (!isConsecutive(pin.value)) {
      r.report(
        pin.path,
        `pkt-gen pins thread i to CPU first+i (-a), so the CPUs must be consecutive; "${formatCpuList(pin.value)}" is not`,
      );
    }
  }
  const [sender, receiver] = pins;
  if (sameMachine && sender !== undefined && receiver !== undefined) {
    const shared = receiver.value.filter((cpu) => sender.value.includes(cpu));
    if (shared.length > 0) {
      r.report(
        receiver.path,
        `sender and receiver of run ${run.name ?? "?"} run on the same machine and share CPU(s) ${formatCpuList(shared)}; give each side its own CPUs`,
      );
    }
  }
}

function buildRun(
  r: Reader,
  run: DraftRun,
  defaults: DraftRunOptions,
  ends: { sender?: ResolvedEndpoint; receiver?: ResolvedEndpoint },
): RunSpec | undefined {
  const duration = pick(run, defaults, "duration")?.value ?? RUN_DEFAULTS.duration;
  const interval = pick(run, defaults, "reportInterval");
  const reportIntervalMs = interval?.value ?? RUN_DEFAULTS.reportInterval;
  if (duration * 1000 < reportIntervalMs) {
    r.report(
      interval?.path ?? pick(run, defaults, "duration")?.path ?? run.path,
      `duration ${duration} s is shorter than one report interval (${reportIntervalMs} ms): no sample would be measured`,
    );
  }
  const threads = pick(run, defaults, "threads")?.value ?? RUN_DEFAULTS.threads;
  const pinSender = pick(run, defaults, "pinSender");
  const pinReceiver = pick(run, defaults, "pinReceiver");
  const sameMachine =
    ends.sender !== undefined &&
    ends.receiver !== undefined &&
    machineKey(ends.sender.machine) === machineKey(ends.receiver.machine);
  checkPins(r, run, threads, [pinSender, pinReceiver], sameMachine);
  if (run.name === undefined || run.sender === undefined || run.receiver === undefined) return undefined;
  const rate = pick(run, defaults, "rate")?.value;
  const paper = pick(run, defaults, "paper")?.value;
  return {
    name: run.name,
    sender: run.sender,
    receiver: run.receiver,
    sizes: pick(run, defaults, "sizes")?.value ?? RUN_DEFAULTS.sizes,
    duration,
    warmup: pick(run, defaults, "warmup")?.value ?? RUN_DEFAULTS.warmup,
    repetitions: pick(run, defaults, "repetitions")?.value ?? RUN_DEFAULTS.repetitions,
    threads,
    pin: {
      ...(pinSender ? { sender: pinSender.value } : {}),
      ...(pinReceiver ? { receiver: pinReceiver.value } : {}),
    },
    ...(rate === undefined ? {} : { rate }),
    reportIntervalMs,
    ...(paper === undefined ? {} : { paper }),
  };
}

function resolveRunEnds(
  r: Reader,
  run: DraftRun,
  topology: TopologyModel,
  plan: TestbedPlan,
): { sender?: ResolvedEndpoint; receiver?: ResolvedEndpoint } {
  const ends: { sender?: ResolvedEndpoint; receiver?: ResolvedEndpoint } = {};
  for (const role of ["sender", "receiver"] as const) {
    const spec = run[role];
    if (spec === undefined) continue;
    const resolved = resolveEndpoint(topology, plan, spec);
    if (typeof resolved === "string") r.report(childPath(run.path, role), resolved);
    else ends[role] = resolved;
  }
  if (ends.sender && ends.receiver) {
    const problem = checkPath(ends.sender, ends.receiver);
    if (problem !== undefined) r.report(childPath(run.path, "receiver"), problem);
  }
  return ends;
}

/** Parses and validates playbook text; its topology is read from disk (or `options.readFile`). */
export function checkPlaybook(text: string, file: string, options: PlaybookCheckOptions = {}): PlaybookCheck {
  const source = parseYaml(text, file);
  if (source.unusable) return { issues: sortIssues(source.issues) };
  const r = new Reader(source);
  const draft = readPlaybook(r);
  if (!draft) return { issues: sortIssues([...source.issues, ...r.issues]) };
  const topology = loadTopologyFor(r, draft, file, options);
  const plan = topology.model ? planTestbed(topology.model) : undefined;
  const runs: RunSpec[] = [];
  for (const run of draft.runs) {
    const ends = topology.model && plan ? resolveRunEnds(r, run, topology.model, plan) : {};
    const spec = buildRun(r, run, draft.defaults, ends);
    if (spec) runs.push(spec);
  }
  const issues = [...sortIssues([...source.issues, ...r.issues]), ...topology.issues];
  if (issues.length > 0 || !topology.model || !topology.file) return { issues };
  if (draft.name === undefined || draft.tuning === undefined || draft.lineRateGbps === undefined) {
    return { issues };
  }
  return {
    issues: [],
    model: {
      apiVersion: PLAYBOOK_API_VERSION,
      name: draft.name,
      ...(draft.description === undefined ? {} : { description: draft.description }),
      sourceFile: file,
      topologyFile: topology.file,
      topology: topology.model,
      tuning: draft.tuning,
      lineRateGbps: draft.lineRateGbps,
      runs,
    },
  };
}
