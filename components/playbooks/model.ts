/**
 * The validated playbook model (schema netmap-testbed/playbook-v1, docs/playbooks.md): what an
 * experiment measures, with every default applied and every endpoint resolved against its topology.
 */
import type { TopologyModel } from "../topology/model";

export const PLAYBOOK_API_VERSION = "netmap-testbed/playbook-v1";

/** The paper's sweep: Ethernet frame sizes without the 4-byte CRC (60 B payload = 64 B frame). */
export const PAPER_SIZES: readonly number[] = [60, 124, 252, 508, 1020, 1514];

/** Smallest and largest frame pkt-gen -l may send on Ethernet (bytes without CRC). */
export const MIN_FRAME = 60;
export const MAX_FRAME = 1514;

/** Which of the paper's figures a run reproduces; its reference numbers are drawn into the plot. */
export type PaperFigure = "vm-nic" | "vm-vm-vale" | "vm-vm-pipe";
export const PAPER_FIGURES: readonly PaperFigure[] = ["vm-nic", "vm-vm-vale", "vm-vm-pipe"];

/** A traffic endpoint, by topology name. */
export type EndpointSpec =
  /** NIC number `nic` (0-based, as listed under `vms.VM.nics`) of a VM, seen from inside the guest. */
  | { readonly kind: "vm"; readonly vm: string; readonly nic: number; readonly interface?: string }
  /** A VALE port `SWITCH:PORT` opened on the switch's host (a persistent port or an ephemeral one). */
  | { readonly kind: "vale"; readonly switch: string; readonly port: string }
  /** One end of a netmap pipe, opened on the pipe's host. */
  | { readonly kind: "pipe"; readonly pipe: string; readonly id: number; readonly end: "master" | "slave" }
  /** A NIC of a host, opened in netmap mode on that host. */
  | { readonly kind: "hostNic"; readonly host: string; readonly nic: string };

/** Host and guest tuning applied before measuring and restored afterwards. */
export interface TuningSpec {
  /** Ethernet pause frames (`ethtool -A IF rx off tx off autoneg off`) on the NICs involved. Default "off". */
  readonly flowControl: "off" | "keep";
  /** Offloads (`ethtool -K IF` tso/gso/gro/lro/rx/tx/sg off) on the NICs involved. Default "off". */
  readonly offloads: "off" | "keep";
  /** cpufreq governor set on every CPU of the machines involved, or "keep". Default "performance". */
  readonly governor: string;
  /** Pass each run's `pin` CPUs to pkt-gen (`-a`). Default true. */
  readonly pinning: boolean;
}

export interface RunPins {
  readonly sender?: readonly number[];
  readonly receiver?: readonly number[];
}

export interface RunSpec {
  readonly name: string;
  readonly sender: EndpointSpec;
  readonly receiver: EndpointSpec;
  /** Frame sizes in bytes without CRC (pkt-gen -l), in sweep order. Default PAPER_SIZES. */
  readonly sizes: readonly number[];
  /** Seconds measured per repetition, after the warm-up. Default 10. */
  readonly duration: number;
  /** Seconds of samples discarded at the start of each repetition. Default 2. */
  readonly warmup: number;
  /** Measurements per size. Default 3. */
  readonly repetitions: number;
  /** pkt-gen threads per side (-p). Default 1. */
  readonly threads: number;
  /** Host (or guest) CPUs per side, one per thread, consecutive (pkt-gen -a pins thread i to first+i). */
  readonly pin: RunPins;
  /** Sender rate limit in packets per second (pkt-gen -R); undefined = as fast as possible. */
  readonly rate?: number;
  /** pkt-gen report interval in milliseconds (-T). Default 1000. */
  readonly reportIntervalMs: number;
  /** The paper figure this run reproduces, if any. */
  readonly paper?: PaperFigure;
}

export interface PlaybookModel {
  readonly apiVersion: typeof PLAYBOOK_API_VERSION;
  readonly name: string;
  readonly description?: string;
  /** Path of the playbook as given (for messages). */
  readonly sourceFile: string;
  /** Path of the topology file actually used (the playbook's, or the override). */
  readonly topologyFile: string;
  readonly topology: TopologyModel;
  readonly tuning: TuningSpec;
  /** Link speed of the theoretical line-rate curve, in Gbit/s. Default 10. */
  readonly lineRateGbps: number;
  readonly runs: readonly RunSpec[];
}
