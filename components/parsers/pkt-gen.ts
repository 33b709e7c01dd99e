/**
 * Parser for netmap's `pkt-gen` output (sender `-f tx` or receiver `-f rx`).
 *
 * Formats (netmap apps/pkt-gen/pkt-gen.c and ctrs.h; verbatim samples in `__fixtures__/`):
 * - periodic: `TS main_thread [N] V Upps [avg/std …] (V Upkts V Ubps in USEC usec) B avg_batch S min_space`
 *   where U is "", K, M, G or T (values normalised with "%.3f %s"; with `-N`, "%.0f " and no unit);
 *   the `[avg/std …]` part only appears with `-A`;
 * - summary: `Sent|Received N packets B bytes E events S bytes each in T seconds.` then
 *   `Speed: V Upps Bandwidth: V Ubps (raw V Ubps). Average batch: X pkts`;
 *   `Sent nothing.` / `Received nothing.` when no packet moved.
 * Lines pkt-gen prints that are not listed here are ignored. Pure, no I/O.
 */

export type PktGenRole = "tx" | "rx";

export interface PktGenSample {
  /** pkt-gen's own timestamp (seconds, as printed). */
  readonly ts: number;
  /** Packets per second. */
  readonly pps: number;
  /** Packets in the interval. */
  readonly pkts: number;
  /** Bits per second (includes framing bits when pkt-gen ran with -B). */
  readonly bps: number;
  /** Interval length in microseconds. */
  readonly usec: number;
  readonly avgBatch: number;
  readonly minSpace: number;
}

export interface PktGenSummary {
  readonly packets: number;
  readonly bytes: number;
  readonly events: number;
  /** Frame size in bytes (pkt-gen's "N bytes each"). */
  readonly frameSize: number;
  readonly seconds: number;
  readonly mpps?: number;
  readonly mbps?: number;
  readonly rawMbps?: number;
  readonly avgBatch?: number;
}

export interface PktGenResult {
  readonly role: PktGenRole;
  /** The netmap port, e.g. `vale0:a` or `netmap:p{1`. */
  readonly interface: string;
  readonly periodic: readonly PktGenSample[];
  /** Null when pkt-gen moved nothing or its output ended before the summary. */
  readonly summary: PktGenSummary | null;
  /** The receiver printed "Received nothing.". */
  readonly receivedNothing: boolean;
  /** The sender printed "Sent nothing.". */
  readonly sentNothing: boolean;
  /** pkt-gen got a control-C. */
  readonly interrupted: boolean;
  /** The output reached the final report (summary or "nothing"). */
  readonly complete: boolean;
}

export class PktGenParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PktGenParseError";
  }
}

const MULTIPLIER: Readonly<Record<string, number>> = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Scales a normalised pkt-gen number ("6.000" + "M") to a plain number, without float noise. */
function scale(value: string, unit: string, lineNo: number): number {
  const mult = MULTIPLIER[unit];
  if (mult === undefined) throw new PktGenParseError(`line ${lineNo}: unknown unit prefix "${unit}"`);
  return Math.round(Number(value) * mult * 1000) / 1000;
}

function toMega(v: number): number {
  return Math.round(v) / 1e6;
}

const NUM = "(\\d+(?:\\.\\d+)?)";
const UNIT = "([KMGT]?)";
const PERIODIC = new RegExp(
  `^${NUM}\\s+main_thread\\s+\\[\\d+\\]\\s+${NUM} ${UNIT}pps\\s+(?:\\[avg/std [^\\]]*\\]\\s*)?` +
    `\\(${NUM} ${UNIT}pkts ${NUM} ${UNIT}bps in (\\d+) usec\\)\\s+${NUM} avg_batch (-?\\d+) min_space$`,
);
const SUMMARY =
  /^(Sent|Received) (\d+) packets (\d+) bytes (\d+) events (\d+) bytes each in (\d+(?:\.\d+)?) seconds\.$/;
const SPEED = new RegExp(
  `^Speed: ${NUM} ${UNIT}pps Bandwidth: ${NUM} ${UNIT}bps \\(raw ${NUM} ${UNIT}bps\\)\\. Average batch: ${NUM} pkts$`,
);

/**
 * Parses one periodic rate line as it streams in (`… main_thread [N] 1.914 Mpps (…) … min_space`);
 * returns null for any other line. Throws PktGenParseError for a main_thread line it cannot read.
 */
export function parsePktGenRateLine(line: string): PktGenSample | null {
  const text = line.trim();
  if (!/\smain_thread\s+\[\d+\]\s/.test(text)) return null;
  const m = PERIODIC.exec(text);
  if (!m) throw new PktGenParseError(`unrecognised rate line: ${JSON.stringify(line)}`);
  return {
    ts: Number(m[1]),
    pps: scale(m[2], m[3], 1),
    pkts: scale(m[4], m[5], 1),
    bps: scale(m[6], m[7], 1),
    usec: Number(m[8]),
    avgBatch: Number(m[9]),
    minSpace: Number(m[10]),
  };
}

/** Parses one pkt-gen run's combined stdout+stderr. Throws PktGenParseError on malformed output. */
export function parsePktGen(output: string): PktGenResult {
  let role: PktGenRole | null = null;
  let iface: string | null = null;
  const periodic: PktGenSample[] = [];
  let summary: PktGenSummary | null = null;
  let receivedNothing = false;
  let sentNothing = false;
  let interrupted = false;
  let complete = false;

  const setRole = (r: PktGenRole, lineNo: number): void => {
    if (role !== null && role !== r) {
      throw new PktGenParseError(`line ${lineNo}: output mixes a sender and a receiver`);
    }
    role = r;
  };

  const lines = output.split(/\r?\n|\r/);
  lines.forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.trim();
    if (line.length === 0) return;

    const ifm = /^\d+\.\d+\s+main\s+\[\d+\]\s+interface is (\S+)$/.exec(line);
    if (ifm) {
      iface = ifm[1];
      return;
    }
    if (/\smain_thread\s+\[\d+\]\s/.test(line)) {
      const m = PERIODIC.exec(line);
      if (!m)
        throw new PktGenParseError(`line ${lineNo}: unrecognised rate line: ${JSON.stringify(rawLine)}`);
      periodic.push({
        ts: Number(m[1]),
        pps: scale(m[2], m[3], lineNo),
        pkts: scale(m[4], m[5], lineNo),
        bps: scale(m[6], m[7], lineNo),
        usec: Number(m[8]),
        avgBatch: Number(m[9]),
        minSpace: Number(m[10]),
      });
      return;
    }
    if (/\ssender_body\s/.test(line)) setRole("tx", lineNo);
    if (/\sreceiver_body\s/.test(line)) setRole("rx", lineNo);
    if (/\ssigint_h\s.*control-C/.test(line)) interrupted = true;

    const on = /^(Sending on|Receiving from) (\S+): \d+ queues/.exec(line);
    if (on) {
      setRole(on[1] === "Sending on" ? "tx" : "rx", lineNo);
      iface = iface ?? on[2];
      return;
    }
    if (line === "Received nothing.") {
      setRole("rx", lineNo);
      receivedNothing = true;
      complete = true;
      return;
    }
    if (line === "Sent nothing.") {
      setRole("tx", lineNo);
      sentNothing = true;
      complete = true;
      return;
    }
    if (/^(Sent|Received) \d/.test(line)) {
      const m = SUMMARY.exec(line);
      if (!m)
        throw new PktGenParseError(`line ${lineNo}: malformed summary line: ${JSON.stringify(rawLine)}`);
      setRole(m[1] === "Sent" ? "tx" : "rx", lineNo);
      summary = {
        packets: Number(m[2]),
        bytes: Number(m[3]),
        events: Number(m[4]),
        frameSize: Number(m[5]),
        seconds: Number(m[6]),
      };
      complete = true;
      return;
    }
    if (line.startsWith("Speed:")) {
      const m = SPEED.exec(line);
      if (!m) throw new PktGenParseError(`line ${lineNo}: malformed speed line: ${JSON.stringify(rawLine)}`);
      if (summary === null) throw new PktGenParseError(`line ${lineNo}: speed line before the summary line`);
      const s: PktGenSummary = summary;
      summary = {
        ...s,
        mpps: toMega(scale(m[1], m[2], lineNo)),
        mbps: toMega(scale(m[3], m[4], lineNo)),
        rawMbps: toMega(scale(m[5], m[6], lineNo)),
        avgBatch: Number(m[7]),
      };
    }
  });

  if (iface === null) {
    throw new PktGenParseError(
      'not pkt-gen output: no "interface is …" or "Sending on/Receiving from …" line found',
    );
  }
  if (role === null) {
    throw new PktGenParseError(`cannot tell whether pkt-gen on ${iface} was a sender or a receiver`);
  }
  return {
    role,
    interface: iface,
    periodic,
    summary,
    receivedNothing,
    sentNothing,
    interrupted,
    complete,
  };
}
