/**
 * One measurement: receiver first, then sender; rate lines are classified as they stream in
 * (warm-up, measured, drain) by the runner's clock; after warm-up + duration the sender gets
 * SIGINT, the receiver (-W) exits on its own or is stopped, and both are checked gone.
 */
import { parsePktGen, parsePktGenRateLine, type PktGenSample, type PktGenSummary } from "../parsers/pkt-gen";
import { median } from "simple-statistics";
import type { Machine } from "./machines";
import type { RunSpec } from "./model";
import { pktGenArgs } from "./pkt-gen-args";
import { RemoteProcess } from "./remote-process";
import type { RepetitionRecord, RepetitionStatus, SamplePhase, SampleRecord } from "./results";
import { sleep, within } from "./wait";

export interface MeasureSide {
  readonly machine: Machine;
  /** The pkt-gen -i argument. */
  readonly port: string;
  /** First CPU for pkt-gen -a, if pinned. */
  readonly firstCpu?: number;
}

/** Bounds of the waits of one measurement, in milliseconds. */
export interface MeasureTimings {
  /** Receiver start until its first sign of life ("Ready…" or a rate line). Defaults to 30000. */
  readonly receiverReadyMs?: number;
  /** Sender start until its first rate line (includes pkt-gen's 2 s "phy reset" wait). Defaults to 30000. */
  readonly senderFirstSampleMs?: number;
}

export interface MeasureInput {
  readonly run: RunSpec;
  readonly size: number;
  readonly repetition: number;
  readonly sender: MeasureSide;
  readonly receiver: MeasureSide;
  /** The argv prefix that runs pkt-gen on the machines (pktGenCommand). */
  readonly pktGen: readonly string[];
  /** Unique id of this runner invocation, part of every remote pidfile name. */
  readonly runId: string;
  /** Aborts the measurement (Ctrl-C): processes are stopped, what was measured is kept. */
  readonly signal: AbortSignal;
  readonly timings?: MeasureTimings;
  /** Each sample as it arrives (for progress). */
  readonly onSample?: (sample: SampleRecord) => void;
  /** Lines worth showing the user (failures, stops). */
  readonly log?: (line: string) => void;
}

export interface MeasureOutput {
  readonly record: RepetitionRecord;
  readonly samples: readonly SampleRecord[];
}

/** The pidfile's name (in RemoteProcess's root-only directory): unique per run, size, repetition and role. */
function pidName(input: MeasureInput, role: "tx" | "rx"): string {
  const safe = input.run.name.replace(/[^A-Za-z0-9_-]/g, "_");
  const runId = input.runId.replace(/[^A-Za-z0-9_-]/g, "_");
  return `pkt-gen.${runId}.${safe}.${input.size}.${input.repetition}.${role}.pid`;
}

function summaryOf(lines: readonly string[]): PktGenSummary | null {
  try {
    return parsePktGen(lines.join("\n")).summary;
  } catch {
    return null;
  }
}

function tail(lines: readonly string[], n = 8): string {
  return lines.slice(-n).join(" | ");
}

/** Resolves when `test` matches a line of `proc` (including lines already seen) or the process ends. */
function firstLine(
  proc: RemoteProcess,
  test: (line: string) => boolean,
  hook: { check?: () => void },
): Promise<boolean> {
  return new Promise((resolve) => {
    hook.check = () => {
      if (proc.lines.some(test)) resolve(true);
    };
    hook.check();
    void proc.done.then(() => resolve(proc.lines.some(test)));
  });
}

export async function measureRepetition(input: MeasureInput): Promise<MeasureOutput> {
  const { run, size, repetition, signal } = input;
  const interval = run.reportIntervalMs;
  const samples: SampleRecord[] = [];
  const startedAt = new Date().toISOString();
  let trafficStart: number | undefined;
  let warmEnd = Infinity;
  let end = Infinity;
  const log = input.log ?? (() => undefined);

  const classify = (arrival: number): SamplePhase => {
    if (trafficStart === undefined || arrival - interval < warmEnd - interval / 4) return "warmup";
    return arrival <= end + interval / 4 ? "measure" : "drain";
  };
  const record = (side: "tx" | "rx", sample: PktGenSample): void => {
    const arrival = Date.now();
    const entry: SampleRecord = {
      run: run.name,
      size,
      repetition,
      side,
      phase: classify(arrival),
      t: trafficStart === undefined ? -1 : (arrival - trafficStart) / 1000,
      ts: sample.ts,
      mpps: sample.pps / 1e6,
      gbps: sample.bps / 1e9,
      pkts: sample.pkts,
      usec: sample.usec,
    };
    samples.push(entry);
    input.onSample?.(entry);
  };
  const hooks: { rx: { check?: () => void }; tx: { check?: () => void } } = { rx: {}, tx: {} };
  const onLine = (side: "tx" | "rx") => (line: string) => {
    try {
      const sample = parsePktGenRateLine(line);
      if (sample) {
        if (side === "tx" && trafficStart === undefined) {
          trafficStart = Date.now() - interval;
          warmEnd = trafficStart + run.warmup * 1000;
          end = warmEnd + run.duration * 1000;
        }
        record(side, sample);
      }
    } catch (error) {
      log(`[${side}] ${(error as Error).message}`);
    }
    hooks[side].check?.();
  };
  const invocation = (role: "tx" | "rx", side: MeasureSide): string[] => [
    ...input.pktGen,
    ...pktGenArgs({
      role,
      port: side.port,
      size,
      threads: run.threads,
      ...(side.firstCpu === undefined ? {} : { firstCpu: side.firstCpu }),
      ...(run.rate === undefined ? {} : { rate: run.rate }),
      reportIntervalMs: interval,
    }),
  ];

  const step = `pkt-gen:${run.name}:${size}:${repetition}`;
  let status: RepetitionStatus = "ok";
  let note: string | undefined;
  let tx: RemoteProcess | undefined;
  const rx = RemoteProcess.start(
    input.receiver.machine.session,
    `${step}:rx`,
    invocation("rx", input.receiver),
    pidName(input, "rx"),
    onLine("rx"),
  );
  try {
    const rxReady = await within(
      firstLine(rx, (line) => /Ready\.\.\.|main_thread|receiver_body/.test(line), hooks.rx),
      input.timings?.receiverReadyMs ?? 30_000,
      signal,
    );
    if (signal.aborted) throw new Interrupted();
    if (rxReady !== true) {
      throw new Failure(
        `receiver did not start on ${input.receiver.machine.name} (${rx.exited ? "exited" : "no output"}): ${tail(rx.lines)}`,
      );
    }
    tx = RemoteProcess.start(
      input.sender.machine.session,
      `${step}:tx`,
      invocation("tx", input.sender),
      pidName(input, "tx"),
      onLine("tx"),
    );
    const txRunning = await within(
      firstLine(tx, (line) => parsePktGenRateLineSafe(line), hooks.tx),
      input.timings?.senderFirstSampleMs ?? 30_000,
      signal,
    );
    if (signal.aborted) throw new Interrupted();
    if (txRunning !== true) {
      throw new Failure(`sender did not start on ${input.sender.machine.name}: ${tail(tx.lines)}`);
    }
    // Measure until warm-up + duration have passed, plus half an interval for the last sample to arrive.
    await sleep(Math.max(0, end + interval / 2 - Date.now()), signal);
    if (signal.aborted) throw new Interrupted();
    if (tx.exited) throw new Failure(`sender exited early: ${tail(tx.lines)}`);
  } catch (error) {
    if (error instanceof Interrupted) {
      status = "interrupted";
      note = "stopped by the user (SIGINT)";
    } else {
      status = "failed";
      note = error instanceof Error ? error.message : String(error);
      log(`${step}: ${note}`);
    }
  } finally {
    if (tx) {
      const outcome = await tx.stop();
      if (!outcome.gone) log(`${step}: sender processes on ${input.sender.machine.name} survived SIGKILL`);
      // The receiver (-W) exits about a second after the traffic stops; give it two intervals more.
      await within(rx.done, 2 * interval + 2000);
    }
    const outcome = await rx.stop();
    if (!outcome.gone) log(`${step}: receiver processes on ${input.receiver.machine.name} survived SIGKILL`);
  }

  const measured = (side: "tx" | "rx"): number[] =>
    samples.filter((s) => s.side === side && s.phase === "measure").map((s) => s.mpps);
  const rxMeasured = measured("rx");
  const txMeasured = measured("tx");
  const rxGbps = samples.filter((s) => s.side === "rx" && s.phase === "measure").map((s) => s.gbps);
  if (status === "ok" && (rxMeasured.length === 0 || rxMeasured.every((v) => v === 0))) {
    status = "no-traffic";
    note =
      "the receiver measured no packets (pkt-gen once reported this while the sender ran; the runner retries once)";
  }
  return {
    samples,
    record: {
      run: run.name,
      size,
      repetition,
      status,
      startedAt,
      endedAt: new Date().toISOString(),
      ...(rxMeasured.length > 0 ? { rxMpps: median(rxMeasured), rxGbps: median(rxGbps) } : {}),
      ...(txMeasured.length > 0 ? { txMpps: median(txMeasured) } : {}),
      senderSummary: tx ? summaryOf(tx.lines) : null,
      receiverSummary: summaryOf(rx.lines),
      ...(note === undefined ? {} : { note }),
    },
  };
}

function parsePktGenRateLineSafe(line: string): boolean {
  try {
    return parsePktGenRateLine(line) !== null;
  } catch {
    return false;
  }
}

class Interrupted extends Error {}
class Failure extends Error {}
