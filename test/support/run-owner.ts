/**
 * Who owns what the test fixtures start, and the watchdogs that remove it when its owner dies
 * without cleaning up (SIGKILL runs no exit hook). An owner is a pid plus its start time from
 * /proc, so a recycled pid is never taken for a live owner. See test/support/watchdog.sh.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The watchdog script (test/support/watchdog.sh). */
export const WATCHDOG = path.join(__dirname, "watchdog.sh");

/** Environment variable that tags every process a jest run starts with the run's owner token. */
export const RUN_TAG = "NMTB_TEST_RUN";

/** A process, identified so that a recycled pid does not match. */
export interface OwnerRecord {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot). */
  startTime: string;
}

/** Start time of a running process from /proc; undefined if it is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** This process as an owner. */
export function currentOwner(): OwnerRecord {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined) throw new Error("cannot read this process's start time from /proc");
  return { pid: process.pid, startTime };
}

export function ownerAlive(owner: OwnerRecord | undefined): boolean {
  return owner !== undefined && processStartTime(owner.pid) === owner.startTime;
}

/** `PID:STARTTIME`, the form watchdog.sh and {@link RUN_TAG} use. */
export function ownerToken(owner: OwnerRecord): string {
  return `${owner.pid}:${owner.startTime}`;
}

export function parseOwnerToken(token: string | undefined): OwnerRecord | undefined {
  const m = /^(\d+):(\d+)$/.exec(token ?? "");
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

/**
 * Seconds between a watchdog's looks at its owner (`$NMTB_WATCHDOG_INTERVAL_S`, default 2): what
 * a killed run's leftovers live at most, plus the time to stop them.
 */
export function watchdogIntervalS(): number {
  const value = Number(process.env.NMTB_WATCHDOG_INTERVAL_S);
  return Number.isInteger(value) && value > 0 ? value : 2;
}

/**
 * Starts watchdog.sh detached: in its own session (a signal to the test run's process group does
 * not reach it), holding no handle of this process, and without the run tag (the run's own
 * watchdog must not kill it).
 */
export function startWatchdog(mode: "guest-run" | "netns-lab" | "tagged", args: readonly string[]): void {
  const env = { ...process.env };
  delete env[RUN_TAG];
  const child = spawn(
    "bash",
    [WATCHDOG, mode, ownerToken(currentOwner()), String(watchdogIntervalS()), ...args],
    { detached: true, stdio: "ignore", env },
  );
  child.on("error", () => undefined); // bash is always there; never crash a test over the watchdog
  child.unref();
}

/**
 * Kills processes tagged ({@link RUN_TAG}) by jest runs that are gone: what a killed run started
 * outside the fixtures (e.g. LocalLabHost's QEMU). Returns the owner tokens that were reaped.
 */
export async function reapTaggedLeftovers(): Promise<string[]> {
  const dead = new Set<string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1");
    } catch {
      continue; // gone, or not ours to read
    }
    const tag = environ.split("\0").find((v) => v.startsWith(`${RUN_TAG}=`));
    const token = tag?.slice(RUN_TAG.length + 1);
    const owner = parseOwnerToken(token);
    if (owner && !ownerAlive(owner)) dead.add(token!);
  }
  await Promise.all([...dead].map((token) => runWatchdogNow("tagged", token, [])));
  return [...dead];
}

/** Runs one reap now (interval 0): reaps if the owner is gone; resolves either way. */
export function runWatchdogNow(
  mode: "guest-run" | "netns-lab" | "tagged",
  token: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("bash", [WATCHDOG, mode, token, "0", ...args], { stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", () => resolve());
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
