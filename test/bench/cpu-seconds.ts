/**
 * CPU time from /proc/<pid>/stat: what a process's finished, reaped descendants used (cutime +
 * cstime), which is where the work of commands it ran ends up. For the bench's own process that is
 * the controller (the engine's CLI reaps its language host and providers); for a host's sshd, every
 * command the host ran over SSH once its session has closed.
 */
import * as fs from "node:fs";

/** USER_HZ: /proc reports times in these ticks, 100 a second on every Linux ABI. */
const TICKS_PER_SECOND = 100;

/** Seconds of CPU the reaped descendants of `pid` used, user and system. */
export function reapedChildrenCpuSeconds(pid: number | "self"): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name: state is field 3, cutime and cstime fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
}

/** The pids of a process's children (for waiting until a daemon has reaped its sessions). */
export function childPids(pid: number): number[] {
  const children = `/proc/${pid}/task/${pid}/children`;
  if (!fs.existsSync(children)) return [];
  return fs
    .readFileSync(children, "utf8")
    .trim()
    .split(/\s+/)
    .filter((field) => field !== "")
    .map(Number);
}
