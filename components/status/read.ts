/**
 * Reads a host's live state over its HostSession: the local kernel-builds/host/status.sh is piped
 * to `bash -s` (nothing is copied to the host, so it works before and without the script bundle,
 * and the script always matches this parser), then parsed.
 */
import * as path from "node:path";
import { HostStepError } from "../host/errors";
import type { HostSession } from "../host/session";
import { HOST_OPT_DIR, type HostPlan } from "../plan/types";
import { packageRoot } from "../pulumi/package-root";
import { driverModuleName } from "./drift";
import { parseHostStatus } from "./parse";
import type { ObservedHost } from "./types";

/** The status script in this package. */
export function statusScriptPath(): string {
  return path.join(packageRoot(), "kernel-builds", "host", "status.sh");
}

export interface ReadHostStatusOptions {
  /** Local script to pipe to the host. Defaults to this package's kernel-builds/host/status.sh. */
  scriptPath?: string;
  /** Environment for the script (NMTB_* overrides, e.g. fake trees in tests). Defaults to none. */
  env?: Readonly<Record<string, string>>;
  /** Kill the script and fail after this many milliseconds. Defaults to 60000. */
  timeoutMs?: number;
}

/** status.sh's arguments for a host: the plan's patched drivers and a QEMU prefix outside the scanned root. */
export function statusScriptArgs(host: HostPlan): string[] {
  const args: string[] = [];
  for (const driver of host.netmapLoad.patchedDrivers) args.push("--module", driverModuleName(driver));
  const prefix = host.qemuBuild?.prefix;
  if (prefix !== undefined && !prefix.startsWith(`${HOST_OPT_DIR}/qemu/`)) args.push("--qemu-prefix", prefix);
  return args;
}

/**
 * Runs status.sh on the host and parses what it printed. Connection failures reject with the
 * session's HostConnectionError; a failing script with a HostStepError naming the output tail.
 */
export async function readHostStatus(
  session: HostSession,
  host: HostPlan,
  options: ReadHostStatusOptions = {},
): Promise<ObservedHost> {
  const result = await session.runScript(
    "status",
    options.scriptPath ?? statusScriptPath(),
    statusScriptArgs(host),
    { timeoutMs: options.timeoutMs ?? 60_000, ...(options.env ? { env: options.env } : {}) },
  );
  if (result.code !== 0) {
    const tail = `${result.stderr}\n${result.stdout}`
      .split("\n")
      .filter((line) => line.trim() !== "")
      .slice(-20);
    throw new HostStepError({
      host: session.name,
      step: "status",
      code: result.code,
      ...(result.signal !== undefined ? { signal: result.signal } : {}),
      tail,
    });
  }
  return parseHostStatus(result.stdout);
}
