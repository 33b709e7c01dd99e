/**
 * The plan: what must exist on each host, computed from the validated model by pure functions.
 * Components turn a plan into resources; the CLI prints it. Nothing here does I/O.
 */
import type { HostNicSpec, HostSpec, HugepagesSpec, ImageSpec, SourceSpec, VmSpec } from "../topology/model";

/** Root of everything netmap-testbed keeps on a host. */
export const HOST_STATE_DIR = "/var/lib/netmap-testbed";
/** Prefix for built artifacts (QEMU builds, netmap tools). */
export const HOST_OPT_DIR = "/opt/netmap-testbed";

export interface NetmapBuildPlan {
  readonly source: SourceSpec;
  /**
   * Hash of every topology setting that changes the build output (source, drivers, explicit
   * driver versions, configure options). The host adds its kernel release and the resolved
   * commit to get the final build key (see `netmapBuildKey`).
   */
  readonly configKey: string;
  readonly drivers: readonly string[];
  /** Versions given in the topology; the rest come from the known-good table for the host's kernel. */
  readonly explicitDriverVersions: Readonly<Record<string, string>>;
  /** configure options that do not depend on the host (everything but kernel dirs and --select-version). */
  readonly configureOptions: readonly string[];
}

export interface NetmapLoadPlan {
  /** netmap module parameters as name → value, applied with modprobe. */
  readonly moduleParams: Readonly<Record<string, number>>;
  /** Test NICs whose driver is among the patched drivers: their stock driver is swapped. */
  readonly patchedNics: readonly HostNicSpec[];
  /** Drivers to unload and reload patched (deduplicated, sorted). */
  readonly patchedDrivers: readonly string[];
  readonly managementInterface: string;
}

export interface QemuBuildPlan {
  readonly source: SourceSpec;
  readonly configKey: string;
  /** Install prefix on the host, unique per configKey. */
  readonly prefix: string;
  /** Absolute path of the built qemu-system-x86_64. */
  readonly binary: string;
  /** configure arguments except `--extra-cflags` (which needs the netmap source dir on the host). */
  readonly configureOptions: readonly string[];
  /** build.sh apt-gets the build dependencies first (topology `qemu.installBuildDeps`). */
  readonly installBuildDeps: boolean;
}

export interface ValePortPlan {
  readonly name: string;
  /** "valeSW:PORT", what QEMU's ifname and pkt-gen's -i take. */
  readonly attachedName: string;
  /**
   * The VM whose NIC this port is. Such a port is the VM's QEMU's own: QEMU creates it when the
   * VM starts and netmap removes it when the VM stops, so nothing here creates it (a persistent
   * port cannot be passed through to a VM: see components/topology/rules/vm-ports.ts).
   */
  readonly vm?: string;
  /** Arguments to vale-ctl that create the persistent port (`-n PORT [-C …]`). */
  readonly createArgs: readonly string[];
  readonly attachArgs: readonly string[];
  readonly detachArgs: readonly string[];
  readonly deleteArgs: readonly string[];
}

export interface ValeUplinkPlan {
  readonly nic: string;
  readonly interface: string;
  readonly attachArgs: readonly string[];
  readonly detachArgs: readonly string[];
}

export interface SwitchPlan {
  readonly name: string;
  readonly ports: readonly ValePortPlan[];
  readonly uplinks: readonly ValeUplinkPlan[];
}

export interface PipeEndPlan {
  readonly vm: string;
  readonly id: number;
  readonly end: "master" | "slave";
  /** "netmap:NAME{ID" (master) or "netmap:NAME}ID" (slave). */
  readonly portName: string;
}

export interface PipePlan {
  readonly name: string;
  readonly ends: readonly PipeEndPlan[];
}

export interface VmNicPlan {
  /** QEMU netdev id, e.g. "nm0". */
  readonly netdevId: string;
  /** What `-netdev netmap,ifname=` receives. */
  readonly ifname: string;
  readonly mac: string;
  /** Human description: "VALE vale0:vm1", "pipe chain0{1", "NIC p0 (ens1f0)". */
  readonly describe: string;
}

export interface VmPaths {
  readonly dir: string;
  readonly overlay: string;
  readonly seed: string;
  readonly serialLog: string;
  readonly qmpSocket: string;
  readonly pidFile: string;
  /** A recipe image's kernel and initrd, linked here by the VM's start from the host's image cache. */
  readonly kernel: string;
  readonly initrd: string;
  /** systemd unit name running the VM. */
  readonly unit: string;
}

export interface VmPlan {
  readonly name: string;
  readonly spec: VmSpec;
  readonly image: ImageSpec;
  readonly nics: readonly VmNicPlan[];
  /** Host TCP port (on 127.0.0.1) forwarded to the guest's SSH port. */
  readonly sshForwardPort: number;
  readonly paths: VmPaths;
  /** The exact argv, starting with the QEMU binary. */
  readonly qemuArgs: readonly string[];
}

export type PlanStepKind =
  | "scripts"
  | "hugepages"
  | "netmap-prepare"
  | "netmap-fetch"
  | "netmap-build"
  | "netmap-install"
  | "netmap-load"
  | "netmap-persist"
  | "qemu-build"
  | "image"
  | "vale-port"
  | "vale-uplink"
  | "pipe"
  | "vm";

export interface PlanStep {
  /** Unique within the host, e.g. "vale-port:vale0:vm1". */
  readonly id: string;
  readonly kind: PlanStepKind;
  readonly description: string;
  /** Step ids that must complete first (creation order; destroy runs in reverse). */
  readonly dependsOn: readonly string[];
}

export interface HostPlan {
  readonly name: string;
  readonly spec: HostSpec;
  readonly hugepages?: HugepagesSpec;
  readonly netmapBuild: NetmapBuildPlan;
  readonly netmapLoad: NetmapLoadPlan;
  /** Present when the host runs VMs. */
  readonly qemuBuild?: QemuBuildPlan;
  readonly images: readonly ImageSpec[];
  readonly switches: readonly SwitchPlan[];
  readonly pipes: readonly PipePlan[];
  readonly vms: readonly VmPlan[];
  /** Every step, topologically ordered (a step comes after all it depends on). */
  readonly steps: readonly PlanStep[];
}

export interface TestbedPlan {
  readonly name: string;
  readonly sourceFile: string;
  readonly hosts: readonly HostPlan[];
}
