/**
 * Where a CLI command writes. Commands take a `CliIo` instead of writing to the process so tests
 * capture their output; its own module so commands and main.ts share it without an import cycle.
 */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Writes each text as one line (adding the newline when missing) to stdout / stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
};
