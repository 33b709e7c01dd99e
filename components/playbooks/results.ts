/** The shape of results.json: every sample, every repetition, and per run/size summaries. */
import type { PktGenSummary } from "../parsers/pkt-gen";
import { lineRateMpps } from "./line-rate";
import type { PaperFigure } from "./model";
import { summarize, type Summary } from "./statistics";

/** Where a sample falls in its repetition: discarded warm-up, measured, or after the measurement. */
export type SamplePhase = "warmup" | "measure" | "drain";

export interface SampleRecord {
  readonly run: string;
  readonly size: number;
  readonly repetition: number;
  /** "tx" for the sender's lines, "rx" for the receiver's. */
  readonly side: "tx" | "rx";
  readonly phase: SamplePhase;
  /** Seconds since the sender started sending (runner clock; end of the sample's interval). */
  readonly t: number;
  /** pkt-gen's own timestamp, as printed. */
  readonly ts: number;
  readonly mpps: number;
  readonly gbps: number;
  readonly pkts: number;
  readonly usec: number;
}

export type RepetitionStatus = "ok" | "no-traffic" | "interrupted" | "failed";

export interface RepetitionRecord {
  readonly run: string;
  readonly size: number;
  readonly repetition: number;
  readonly status: RepetitionStatus;
  readonly startedAt: string;
  readonly endedAt: string;
  /** Median receiver rate over the measured samples, in Mpps (undefined without samples). */
  readonly rxMpps?: number;
  readonly txMpps?: number;
  readonly rxGbps?: number;
  /** pkt-gen's final reports, when it printed them. */
  readonly senderSummary: PktGenSummary | null;
  readonly receiverSummary: PktGenSummary | null;
  /** What went wrong (failed) or what happened (interrupted). */
  readonly note?: string;
}

export interface SizeSummary {
  readonly run: string;
  readonly size: number;
  /** Repetitions with measured samples. */
  readonly repetitions: number;
  /** Received rate over all measured samples of all repetitions. */
  readonly mpps: Summary;
  readonly gbps: Summary;
  /** Per-repetition medians of the received rate. */
  readonly repetitionMpps: Summary;
  /** Sent rate over all measured samples. */
  readonly txMpps?: Summary;
  readonly lineRateMpps: number;
  /** Median received rate as a percentage of line rate. */
  readonly percentOfLineRate: number;
}

export interface RunRecord {
  readonly name: string;
  readonly sender: string;
  readonly receiver: string;
  readonly senderPort: string;
  readonly receiverPort: string;
  readonly sizes: readonly number[];
  readonly duration: number;
  readonly warmup: number;
  readonly repetitions: number;
  readonly threads: number;
  readonly rate?: number;
  readonly paper?: PaperFigure;
}

export interface ResultsFile {
  readonly playbook: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** True when the run was stopped (Ctrl-C) before every measurement was made. */
  readonly interrupted: boolean;
  readonly lineRateGbps: number;
  readonly runs: readonly RunRecord[];
  readonly repetitions: readonly RepetitionRecord[];
  readonly summaries: readonly SizeSummary[];
  readonly samples: readonly SampleRecord[];
}

/** Per run and size, the summary of the measured receiver samples (sizes without samples are left out). */
export function summarizeResults(
  runs: readonly RunRecord[],
  samples: readonly SampleRecord[],
  repetitions: readonly RepetitionRecord[],
  lineRateGbps: number,
): SizeSummary[] {
  const out: SizeSummary[] = [];
  for (const run of runs) {
    for (const size of run.sizes) {
      const measured = samples.filter((s) => s.run === run.name && s.size === size && s.phase === "measure");
      const rx = measured.filter((s) => s.side === "rx");
      const tx = measured.filter((s) => s.side === "tx");
      const mpps = summarize(rx.map((s) => s.mpps));
      const gbps = summarize(rx.map((s) => s.gbps));
      const reps = repetitions.filter((r) => r.run === run.name && r.size === size && r.rxMpps !== undefined);
      const repetitionMpps = summarize(reps.map((r) => r.rxMpps ?? 0));
      if (!mpps || !gbps || !repetitionMpps) continue;
      const lineRate = lineRateMpps(size, lineRateGbps);
      const txMpps = summarize(tx.map((s) => s.mpps));
      out.push({
        run: run.name,
        size,
        repetitions: reps.length,
        mpps,
        gbps,
        repetitionMpps,
        ...(txMpps ? { txMpps } : {}),
        lineRateMpps: lineRate,
        percentOfLineRate: (mpps.median / lineRate) * 100,
      });
    }
  }
  return out;
}
