/**
 * Runs a validated playbook: connects to the machines, records provenance, applies the tuning,
 * measures every run × size × repetition (receiver before sender), restores the tuning and writes
 * results/<timestamp>-<playbook>/{results.json, manifest.json, report.md, *.svg}. An abort (Ctrl-C)
 * stops the remote pkt-gen processes and keeps what was measured; while connecting, it abandons
 * the connections at once. The results directory is made with the first measurement, so a run that
 * fails or is interrupted before measuring anything leaves no empty directory behind.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import * as path from "node:path";
import { abandonConnectsOnAbort, type HostCredentials } from "../host/session";
import { planTestbed } from "../plan/plan-testbed";
import { guestInterfaceByMac } from "./guest-interface";
import type { KnownMachineKey } from "./host-keys";
import { Machines, type Machine } from "./machines";
import type { Manifest } from "./manifest";
import { measureRepetition, type MeasureSide, type MeasureTimings } from "./measure";
import type { PlaybookModel, RunSpec } from "./model";
import type { PlotSeries } from "./plot";
import {
  collectMachineProvenance,
  projectProvenance,
  sha256File,
  type MachineProvenance,
} from "./provenance";
import { lendPorts, portsToLend, returnPorts, type Lending } from "./port-lending";
import { renderReport } from "./report";
import { resolveEndpoint, type ResolvedEndpoint } from "./resolve";
import { describePktGen, pktGenCommand } from "./pkt-gen-command";
import {
  summarizeResults,
  type RepetitionRecord,
  type ResultsFile,
  type RunRecord,
  type SampleRecord,
} from "./results";
import { applyTuning, restoreTuning, type TuningAction, type TuningTarget } from "./tuning";

export interface RunnerOptions {
  readonly playbook: PlaybookModel;
  readonly credentials: HostCredentials;
  /** Host keys for guests and local-lab hosts (`--host-key-file`). Defaults to none. */
  readonly knownKeys?: ReadonlyMap<string, KnownMachineKey>;
  /** Login user in guests. Defaults to "netmap". */
  readonly guestUser?: string;
  /**
   * pkt-gen on the machines (a name on their PATH or an absolute path). Defaults to the one
   * netmap's install step put in /opt/netmap-testbed/bin, else `pkt-gen` on their PATH.
   */
  readonly pktGen?: string;
  /** Parent of the results directory. Defaults to "results". */
  readonly outDir?: string;
  /** Aborting stops the measurement in progress and skips the rest; results so far are written. */
  readonly signal?: AbortSignal;
  /** Progress lines ("run i of n, size s, current rate"). Defaults to none. */
  readonly progress?: (line: string) => void;
  /** Warnings and failures. Defaults to none. */
  readonly log?: (line: string) => void;
  readonly timings?: MeasureTimings;
  /** The clock, for the directory name. Defaults to the current time. */
  readonly now?: () => Date;
}

export interface RunnerResult {
  /** The results directory; undefined when nothing was measured (so nothing was written). */
  readonly dir: string | undefined;
  readonly interrupted: boolean;
  /** Measurements that failed (after the retry of a "no traffic" one). */
  readonly failed: number;
  readonly results: ResultsFile;
}

interface PreparedRun {
  readonly spec: RunSpec;
  readonly sender: ResolvedEndpoint;
  readonly receiver: ResolvedEndpoint;
  senderSide?: MeasureSide;
  receiverSide?: MeasureSide;
}

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

function prepare(playbook: PlaybookModel): PreparedRun[] {
  const plan = planTestbed(playbook.topology);
  return playbook.runs.map((spec) => {
    const ends = (["sender", "receiver"] as const).map((role) => {
      const resolved = resolveEndpoint(playbook.topology, plan, spec[role]);
      if (typeof resolved === "string") throw new Error(`run ${spec.name}: ${role}: ${resolved}`);
      return resolved;
    });
    return { spec, sender: ends[0], receiver: ends[1] };
  });
}

/** Machines, ports and tuning targets of every run, resolved on the machines themselves. */
async function connect(
  runs: PreparedRun[],
  machines: Machines,
  pinning: boolean,
): Promise<Map<string, { machine: Machine; interfaces: Set<string> }>> {
  const targets = new Map<string, { machine: Machine; interfaces: Set<string> }>();
  const target = async (machine: Machine): Promise<Set<string>> => {
    const entry = targets.get(machine.key) ?? { machine, interfaces: new Set<string>() };
    targets.set(machine.key, entry);
    return entry.interfaces;
  };
  for (const run of runs) {
    for (const role of ["sender", "receiver"] as const) {
      const ep = run[role];
      const machine = await machines.get(ep.machine);
      const interfaces = await target(machine);
      let port: string;
      if (ep.port.kind === "guestMac") {
        const iface = await guestInterfaceByMac(machine, ep.port.mac);
        interfaces.add(iface);
        port = `netmap:${iface}`;
      } else {
        port = ep.port.name;
        if (ep.port.name.startsWith("netmap:") && ep.spec.kind !== "pipe")
          interfaces.add(ep.port.name.slice(7));
      }
      for (const hostIf of ep.hostInterfaces) {
        (await target(await machines.get({ kind: "host", host: hostIf.host }))).add(hostIf.interface);
      }
      // A VM's vCPUs run on its host's CPUs: the host's governor matters too.
      if (ep.machine.kind === "vm") await target(await machines.get({ kind: "host", host: ep.machine.host }));
      const pin = run.spec.pin[role];
      const side: MeasureSide = {
        machine,
        port,
        ...(pinning && pin !== undefined ? { firstCpu: pin[0] } : {}),
      };
      if (role === "sender") run.senderSide = side;
      else run.receiverSide = side;
    }
  }
  return targets;
}

function runRecord(run: PreparedRun): RunRecord {
  const { spec } = run;
  return {
    name: spec.name,
    sender: run.sender.describe,
    receiver: run.receiver.describe,
    senderPort: run.senderSide?.port ?? "?",
    receiverPort: run.receiverSide?.port ?? "?",
    sizes: spec.sizes,
    duration: spec.duration,
    warmup: spec.warmup,
    repetitions: spec.repetitions,
    threads: spec.threads,
    ...(spec.rate === undefined ? {} : { rate: spec.rate }),
    ...(spec.paper === undefined ? {} : { paper: spec.paper }),
  };
}

export async function runPlaybook(options: RunnerOptions): Promise<RunnerResult> {
  const { playbook } = options;
  const signal = options.signal ?? new AbortController().signal;
  const progress = options.progress ?? (() => undefined);
  const log = options.log ?? (() => undefined);
  const started = (options.now ?? (() => new Date()))();
  const runId = randomBytes(4).toString("hex");
  const dir = path.join(options.outDir ?? "results", `${timestamp(started)}-${playbook.name}`);
  let dirMade = false;
  const pktGen = pktGenCommand(options.pktGen);
  const runs = prepare(playbook);
  const machines = new Machines(playbook.topology, {
    credentials: options.credentials,
    ...(options.knownKeys ? { knownKeys: options.knownKeys } : {}),
    ...(options.guestUser ? { guestUser: options.guestUser } : {}),
  });
  const samples: SampleRecord[] = [];
  const repetitions: RepetitionRecord[] = [];
  let provenance: MachineProvenance[] = [];
  let tuningActions: TuningAction[] = [];
  let tuningTargets: TuningTarget[] = [];
  const lent: Lending[] = [];
  let failed = 0;

  const results = (finished: boolean): ResultsFile => {
    const records = runs.map(runRecord);
    return {
      playbook: playbook.name,
      startedAt: started.toISOString(),
      finishedAt: finished ? new Date().toISOString() : "",
      interrupted: signal.aborted,
      lineRateGbps: playbook.lineRateGbps,
      runs: records,
      repetitions,
      summaries: summarizeResults(records, samples, repetitions, playbook.lineRateGbps),
      samples,
    };
  };
  const writeResults = async (file: ResultsFile): Promise<void> => {
    if (!dirMade) await mkdir(dir, { recursive: true });
    dirMade = true;
    await writeFile(path.join(dir, "results.json"), `${JSON.stringify(file, null, 2)}\n`);
  };

  try {
    progress(`connecting to the machines of ${playbook.name} (${runs.length} run(s))`);
    const targets = await abandonConnectsOnAbort(signal, () =>
      connect(runs, machines, playbook.tuning.pinning),
    );
    tuningTargets = [...targets.values()].map((t) => ({ machine: t.machine, interfaces: [...t.interfaces] }));
    provenance = await Promise.all(
      tuningTargets.map((t) => collectMachineProvenance(t.machine, t.interfaces)),
    );
    const lendings: Lending[] = [];
    for (const port of portsToLend(runs.flatMap((run) => [run.sender.lend, run.receiver.lend]))) {
      lendings.push({ port, machine: await machines.get({ kind: "host", host: port.host }) });
    }
    if (!signal.aborted) await lendPorts(lendings, progress, lent);
    if (!signal.aborted) {
      progress(`applying tuning on ${tuningTargets.map((t) => t.machine.name).join(", ")}`);
      tuningActions = await applyTuning(playbook.tuning, tuningTargets);
    }
    const total = runs.reduce((sum, run) => sum + run.spec.sizes.length * run.spec.repetitions, 0);
    let index = 0;
    outer: for (const [runIndex, run] of runs.entries()) {
      for (const size of run.spec.sizes) {
        for (let repetition = 1; repetition <= run.spec.repetitions; repetition++) {
          if (signal.aborted) break outer;
          index++;
          const head = `run ${runIndex + 1} of ${runs.length} (${run.spec.name}), size ${size} B, repetition ${repetition} of ${run.spec.repetitions} [${index}/${total}]`;
          progress(
            `${head}: starting receiver on ${run.receiverSide?.machine.name}, then sender on ${run.senderSide?.machine.name}`,
          );
          for (let attempt = 1; attempt <= 2; attempt++) {
            const out = await measureRepetition({
              run: run.spec,
              size,
              repetition,
              sender: run.senderSide as MeasureSide,
              receiver: run.receiverSide as MeasureSide,
              pktGen,
              runId,
              signal,
              ...(options.timings ? { timings: options.timings } : {}),
              log,
              onSample: (s) => {
                if (s.side === "rx")
                  progress(`${head}: ${s.phase} ${s.mpps.toFixed(3)} Mpps ${s.gbps.toFixed(3)} Gbit/s`);
              },
            });
            if (out.record.status === "no-traffic" && attempt === 1 && !signal.aborted) {
              log(`${head}: the receiver measured nothing; retrying once`);
              continue;
            }
            samples.push(...out.samples);
            repetitions.push(out.record);
            if (out.record.status === "failed" || out.record.status === "no-traffic") failed++;
            const rate =
              out.record.rxMpps === undefined ? "no samples" : `${out.record.rxMpps.toFixed(3)} Mpps`;
            progress(`${head}: ${out.record.status}, median ${rate}`);
            break;
          }
          await writeResults(results(false));
        }
      }
    }
  } catch (error) {
    // After Ctrl-C, a connection or command cut short by it is the interrupt, not a failure.
    if (!signal.aborted) throw error;
    log(`interrupted: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (signal.aborted) {
      progress(
        repetitions.length > 0
          ? "interrupted: remote pkt-gen stopped; writing what was measured"
          : "interrupted before the first measurement: closing the connections",
      );
    }
    await restoreTuning(tuningActions, tuningTargets).catch((error: unknown) =>
      log(`restoring tuning: ${String(error)}`),
    );
    if (lent.length > 0)
      progress(`putting back ${lent.map((l) => `${l.port.switch}:${l.port.port}`).join(", ")}`);
    await returnPorts(lent, log);
    await machines.closeAll();
  }

  const final = results(true);
  if (repetitions.length === 0)
    return { dir: undefined, interrupted: final.interrupted, failed, results: final };
  await writeResults(final);
  const manifest: Manifest = {
    tool: projectProvenance(),
    runId,
    playbook: { file: playbook.sourceFile, name: playbook.name, sha256: sha256File(playbook.sourceFile) },
    topology: {
      file: playbook.topologyFile,
      name: playbook.topology.name,
      sha256: sha256File(playbook.topologyFile),
    },
    pktGen: describePktGen(options.pktGen),
    startedAt: final.startedAt,
    finishedAt: final.finishedAt,
    interrupted: final.interrupted,
    controller: {
      hostname: hostname(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    machines: provenance,
    tuning: { spec: playbook.tuning, actions: tuningActions },
  };
  await writeFile(path.join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const plots = await writePlots(dir, final, runs);
  await writeFile(path.join(dir, "report.md"), renderReport({ results: final, manifest, plots }));
  return { dir, interrupted: final.interrupted, failed, results: final };
}

async function writePlots(
  dir: string,
  results: ResultsFile,
  runs: readonly PreparedRun[],
): Promise<{ file: string; title: string }[]> {
  const series: PlotSeries[] = runs.map((run) => ({
    run: run.spec.name,
    ...(run.spec.paper ? { paper: run.spec.paper } : {}),
    points: results.summaries.filter((s) => s.run === run.spec.name),
  }));
  const plots: { file: string; title: string }[] = [];
  // Loaded only when there is something to plot: vega and vega-lite are large.
  const { renderPlotSvg } = await import("./plot");
  const write = async (file: string, title: string, chosen: PlotSeries[]): Promise<void> => {
    const svg = await renderPlotSvg({ title, series: chosen, lineRateGbps: results.lineRateGbps });
    await writeFile(path.join(dir, file), svg);
    plots.push({ file, title });
  };
  await write("mpps-vs-size.svg", `${results.playbook}: Mpps vs frame size`, series);
  if (series.length > 1) {
    for (const s of series) await write(`mpps-vs-size-${s.run}.svg`, `${s.run}: Mpps vs frame size`, [s]);
  }
  return plots;
}
