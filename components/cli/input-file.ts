import * as fs from "node:fs";

/**
 * A file the user named, read as text, or the one-line reason it cannot be used. The reasons say
 * what to give instead (`fix`, e.g. "give a topology file") rather than Node's EISDIR / ENOENT, and
 * binary or non-UTF-8 files are refused without echoing their bytes into an error message.
 */
export type TextInput = { readonly text: string } | { readonly problem: string };

/** Larger than any topology, playbook or key; guards against a disk image given by mistake. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function describeReadError(file: string, error: unknown, fix: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return `${file}: no such file (${fix})`;
    case "ENOTDIR":
      return `${file}: no such file, a part of the path is not a directory (${fix})`;
    case "EISDIR":
      return `${file}: is a directory (${fix})`;
    case "EACCES":
    case "EPERM":
      return `${file}: permission denied (make it readable by this user, or ${fix})`;
    case "ELOOP":
      return `${file}: too many symbolic links (${fix})`;
    default:
      return `${file}: cannot be read${code ? ` (${code})` : ""} (${fix})`;
  }
}

/** Decodes bytes as UTF-8 text, or says the file is not text (a NUL byte or invalid UTF-8). */
export function decodeText(file: string, bytes: Uint8Array): TextInput {
  const notText = { problem: `${file}: not a text file (binary or not UTF-8)` };
  if (bytes.includes(0)) return notText;
  try {
    return { text: strictUtf8.decode(bytes) };
  } catch {
    return notText;
  }
}

export function readTextInput(file: string, fix: string): TextInput {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    return { problem: describeReadError(file, error, fix) };
  }
  if (stat.isDirectory()) return { problem: `${file}: is a directory (${fix})` };
  // FIFOs stay allowed: `<(generate-topology)` hands the command a pipe.
  if (!stat.isFile() && !stat.isFIFO()) return { problem: `${file}: not a regular file (${fix})` };
  if (stat.size > MAX_INPUT_BYTES) {
    return { problem: `${file}: too large for a text input (${stat.size} bytes) (${fix})` };
  }
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    return { problem: describeReadError(file, error, fix) };
  }
  return decodeText(file, bytes);
}
