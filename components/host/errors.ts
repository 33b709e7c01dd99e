/** Errors thrown by the host session. Messages are scrubbed of secrets before they are built into these. */
import { formatOutputTail } from "./output";

/** What went wrong while connecting. `host-key-*` and `auth` are final (never retried). */
export type HostConnectionFailure =
  | "host-key-mismatch"
  | "host-key-missing"
  | "host-key-invalid"
  | "auth"
  | "no-credentials"
  | "unreachable"
  | "connection-lost"
  | "closed";

/** The SSH connection to a host could not be made (or was lost). */
export class HostConnectionError extends Error {
  override readonly name = "HostConnectionError";

  constructor(
    /** Host name from the topology. */
    readonly host: string,
    /** Failure class; see {@link HostConnectionFailure}. */
    readonly failure: HostConnectionFailure,
    message: string,
    /** Connection attempts made (0 when refused before connecting). */
    readonly attempts = 0,
  ) {
    super(message);
  }
}

/** Facts about a finished (or abandoned) remote step, for {@link HostStepError}. */
export interface HostStepFailure {
  host: string;
  step: string;
  /** Exit code, or null when the command died from a signal, timed out or lost its channel. */
  code: number | null;
  /** Signal name (without `SIG`) when the command was killed by one. */
  signal?: string;
  /** Set when the step exceeded its `timeoutMs`. */
  timedOutAfterMs?: number;
  /** Last lines of combined stdout/stderr. */
  tail: readonly string[];
  /** Extra explanation (e.g. "could not open a channel: …"). */
  detail?: string;
}

/** Formats the headline of a failed step: host, step and how it ended. */
export function describeStepFailure(failure: HostStepFailure): string {
  let how: string;
  if (failure.timedOutAfterMs !== undefined) {
    how = `timed out after ${failure.timedOutAfterMs} ms`;
  } else if (failure.signal) {
    how = `was killed by signal ${failure.signal}`;
  } else if (failure.code !== null) {
    how = `failed with exit code ${failure.code}`;
  } else {
    how = "ended without an exit status";
  }
  const detail = failure.detail ? `: ${failure.detail}` : "";
  return `host ${failure.host}: step "${failure.step}" ${how}${detail}`;
}

/** A remote step failed: the message names host, step, exit code and the tail of the output. */
export class HostStepError extends Error {
  override readonly name = "HostStepError";
  readonly host: string;
  readonly step: string;
  readonly code: number | null;
  readonly signal?: string;
  readonly tail: readonly string[];

  constructor(failure: HostStepFailure) {
    super(
      `${describeStepFailure(failure)}\n` +
        `last ${failure.tail.length} line(s) of output:\n${formatOutputTail(failure.tail)}`,
    );
    this.host = failure.host;
    this.step = failure.step;
    this.code = failure.code;
    if (failure.signal !== undefined) {
      this.signal = failure.signal;
    }
    this.tail = failure.tail;
  }
}
