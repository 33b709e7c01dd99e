/**
 * Collecting command output: whole Buffers (large outputs stay linear and byte-exact),
 * a retention cap with a visible marker, lines for progress display, and a short tail
 * of the combined output for error messages.
 */

/** Default cap on the bytes kept per stream: 64 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** Keeps the first `maxBytes` of a stream as Buffers and counts what it had to drop. */
export class OutputCollector {
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(private readonly maxBytes: number = DEFAULT_MAX_OUTPUT_BYTES) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.#kept;
    if (room >= chunk.length) {
      this.#chunks.push(chunk);
      this.#kept += chunk.length;
      return;
    }
    if (room > 0) {
      this.#chunks.push(chunk.subarray(0, room));
      this.#kept += room;
    }
    this.#dropped += chunk.length - Math.max(room, 0);
  }

  /** Bytes discarded because of the cap. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** The retained bytes, followed by a truncation marker line when something was dropped. */
  toBuffer(): Buffer {
    const body = Buffer.concat(this.#chunks, this.#kept);
    if (this.#dropped === 0) {
      return body;
    }
    return Buffer.concat([body, Buffer.from(truncationMarker(this.#kept, this.#dropped))]);
  }
}

/** The line appended to an output that hit the cap. */
export function truncationMarker(keptBytes: number, droppedBytes: number): string {
  return `\n[netmap-testbed: output truncated: kept the first ${keptBytes} bytes, dropped ${droppedBytes} bytes]\n`;
}

/** Longest partial line held back while waiting for its newline; longer runs are emitted as they are. */
const MAX_PENDING_LINE = 64 * 1024;

/** Splits a byte stream into lines (without the newline), across chunk boundaries. */
export class LineSplitter {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      this.#append(chunk.subarray(start, newline));
      this.#emit();
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.#append(chunk.subarray(start));
      if (this.#pendingBytes >= MAX_PENDING_LINE) {
        this.#emit();
      }
    }
  }

  /** Emits a final line that had no newline. */
  end(): void {
    if (this.#pendingBytes > 0) {
      this.#emit();
    }
  }

  #append(part: Buffer): void {
    if (part.length > 0) {
      this.#pending.push(part);
      this.#pendingBytes += part.length;
    }
  }

  #emit(): void {
    const line = Buffer.concat(this.#pending, this.#pendingBytes).toString("utf8").replace(/\r$/, "");
    this.#pending = [];
    this.#pendingBytes = 0;
    this.onLine(line);
  }
}

/** Keeps the last `maxLines` lines of a combined output, each cut to `maxLineLength` characters. */
export class TailLines {
  readonly #lines: string[] = [];

  constructor(
    private readonly maxLines: number = 20,
    private readonly maxLineLength: number = 500,
  ) {}

  push(line: string): void {
    this.#lines.push(
      line.length > this.maxLineLength ? `${line.slice(0, this.maxLineLength)}… (line cut)` : line,
    );
    if (this.#lines.length > this.maxLines) {
      this.#lines.shift();
    }
  }

  get lines(): readonly string[] {
    return [...this.#lines];
  }
}

/** Formats the tail of an output for an error message, one indented line each. */
export function formatOutputTail(lines: readonly string[]): string {
  if (lines.length === 0) {
    return "  (no output)";
  }
  return lines.map((line) => `  | ${line}`).join("\n");
}
