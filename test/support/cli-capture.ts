import type { CliIo } from "../../components/cli/main";

/** A CLI's output captured in memory, for asserting on what a command printed. */
export interface CapturedIo {
  io: CliIo;
  out: () => string;
  err: () => string;
}

export function captureIo(): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    out: () => out.join("\n"),
    err: () => err.join("\n"),
  };
}
