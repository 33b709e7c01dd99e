import type { StepCommand } from "./step-types";
import { hostScript } from "./script-bundle";

/** argv for a script of the installed bundle: `bash /opt/netmap-testbed/scripts/current/kernel-builds/<relative> …`. */
export function scriptArgv(relative: string, args: readonly string[]): string[] {
  return ["bash", hostScript(relative), ...args];
}

export function scriptCommand(
  relative: string,
  args: readonly string[],
  extra: Omit<StepCommand, "argv"> = {},
): StepCommand {
  return { argv: scriptArgv(relative, args), ...extra };
}

/** `--flag value` pairs for each value, the shape every host script takes for lists. */
export function repeatFlag(flag: string, values: readonly string[]): string[] {
  return values.flatMap((value) => [flag, value]);
}
