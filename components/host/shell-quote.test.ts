import { execFileSync } from "node:child_process";
import fc from "fast-check";

import {
  CommandValidationError,
  buildRemoteCommand,
  shellQuote,
  validateArgv,
  validateEnv,
} from "./shell-quote";

/** Runs `printf '%s\0' <words>` through a real shell and returns the words it received. */
function throughShell(shell: string, commandLine: string): string[] {
  const output = execFileSync(shell, ["-c", commandLine], { encoding: "utf8" });
  const words = output.split("\0");
  words.pop(); // after the last NUL
  return words;
}

const argWithoutNul = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !s.includes("\0"));

describe("shellQuote", () => {
  it.each([
    ["plain", "plain"],
    ["/usr/bin/vale-ctl", "/usr/bin/vale-ctl"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["$(reboot)", "'$(reboot)'"],
    ["a;b", "'a;b'"],
    ["--x=1", "'--x=1'"],
    ["line1\nline2", "'line1\nline2'"],
  ])("quotes %j as %s", (input, expected) => {
    expect(shellQuote(input)).toBe(expected);
  });

  it.each(["/bin/sh", "/bin/bash"])("round-trips any argv byte-exact through %s", (shell) => {
    fc.assert(
      fc.property(fc.array(argWithoutNul, { minLength: 1, maxLength: 6 }), (args) => {
        const line = `printf '%s\\0' ${args.map(shellQuote).join(" ")}`;
        expect(throughShell(shell, line)).toEqual(args);
      }),
      { numRuns: 150 },
    );
  });
});

describe("buildRemoteCommand", () => {
  it("quotes every word and prefixes env and sudo", () => {
    expect(buildRemoteCommand(["echo", "a b"], { env: { X: "1 2" }, sudo: true })).toBe(
      "sudo -n -- env X='1 2' echo 'a b'",
    );
    expect(buildRemoteCommand(["true"])).toBe("true");
  });

  it("delivers env values byte-exact through a real shell", () => {
    fc.assert(
      fc.property(argWithoutNul, argWithoutNul, (value, arg) => {
        const line = buildRemoteCommand(["sh", "-c", `printf '%s\\0' "$NM_VALUE" "$1"`, "sh", arg], {
          env: { NM_VALUE: value },
        });
        expect(throughShell("/bin/sh", line)).toEqual([value, arg]);
      }),
      { numRuns: 100 },
    );
  });

  it("rejects what it cannot pass safely", () => {
    expect(() => buildRemoteCommand([])).toThrow(CommandValidationError);
    expect(() => buildRemoteCommand([""])).toThrow(/argv\[0\]/);
    expect(() => buildRemoteCommand(["echo", "a\0b"])).toThrow(/argv\[1\] contains a NUL/);
    expect(() => buildRemoteCommand(["echo"], { env: { "BAD-NAME": "x" } })).toThrow(/"BAD-NAME" is invalid/);
    expect(() => buildRemoteCommand(["echo"], { env: { "1X": "x" } })).toThrow(CommandValidationError);
    expect(() => buildRemoteCommand(["echo"], { env: { "X;rm": "x" } })).toThrow(CommandValidationError);
    expect(() => buildRemoteCommand(["echo"], { env: { X: "a\0" } })).toThrow(/NUL/);
    expect(() => buildRemoteCommand(["A=B"], { env: { X: "1" } })).toThrow(/assignment/);
  });

  it("accepts valid names and argv", () => {
    expect(() => validateEnv({ _A1: "", lower_case: "x" })).not.toThrow();
    expect(() => validateArgv(["x", ""])).not.toThrow();
  });
});
