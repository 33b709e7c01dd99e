/**
 * pkt-gen command lines (luigirizzo/netmap apps/pkt-gen/pkt-gen.c): `-i PORT -f tx|rx -l SIZE
 * -p THREADS [-a FIRST_CPU] [-R PPS] -T REPORT_MS`, plus `-W` for receivers so they exit on their own
 * about a second after the traffic stops (with their final report).
 */

export interface PktGenInvocation {
  readonly role: "tx" | "rx";
  /** The netmap port, e.g. `vale0:a`, `netmap:p{1`, `netmap:ens1f0`. */
  readonly port: string;
  /** Frame size in bytes without CRC (-l). */
  readonly size: number;
  /** Threads (-p). */
  readonly threads: number;
  /** First CPU; pkt-gen pins thread i to firstCpu + i (-a). Undefined = no pinning. */
  readonly firstCpu?: number;
  /** Sender rate limit in packets per second (-R); ignored for receivers. */
  readonly rate?: number;
  /** Milliseconds between rate lines (-T). */
  readonly reportIntervalMs: number;
}

export function pktGenArgs(inv: PktGenInvocation): string[] {
  const args = ["-i", inv.port, "-f", inv.role, "-l", String(inv.size), "-p", String(inv.threads)];
  if (inv.firstCpu !== undefined) args.push("-a", String(inv.firstCpu));
  if (inv.role === "tx" && inv.rate !== undefined) args.push("-R", String(inv.rate));
  args.push("-T", String(inv.reportIntervalMs));
  if (inv.role === "rx") args.push("-W");
  return args;
}
