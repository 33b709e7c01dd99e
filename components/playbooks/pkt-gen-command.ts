/**
 * How pkt-gen is started on a machine. netmap's install step puts its tools in
 * /opt/netmap-testbed/bin, which is on no one's PATH; a user may also have a pkt-gen of their own
 * on PATH, or name one with --pkt-gen.
 */
import { HOST_OPT_DIR } from "../plan/types";

/** Where install.sh installs netmap's pkt-gen on a host. */
export const INSTALLED_PKT_GEN = `${HOST_OPT_DIR}/bin/pkt-gen`;

/**
 * The argv prefix that runs pkt-gen: the one given, else the installed one where it exists,
 * else `pkt-gen` on the machine's PATH. The shell `exec`s it, so signals reach pkt-gen itself.
 */
export function pktGenCommand(pktGen: string | undefined): string[] {
  if (pktGen !== undefined) return [pktGen];
  return [
    "sh",
    "-c",
    `if [ -x ${INSTALLED_PKT_GEN} ]; then exec ${INSTALLED_PKT_GEN} "$@"; fi; exec pkt-gen "$@"`,
    "pkt-gen",
  ];
}

/** The pkt-gen a run used, for its manifest and report. */
export function describePktGen(pktGen: string | undefined): string {
  return pktGen ?? `${INSTALLED_PKT_GEN}, else pkt-gen on PATH`;
}
