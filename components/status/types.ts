/**
 * What `kernel-builds/host/status.sh` reads back from a host (parsed and typed), and the drift
 * between that and the plan. Field meanings follow the script's usage text.
 */
import type { ValeListAnomaly, ValePortEntry } from "../parsers/vale-ctl";

/** The schema tag status.sh prints; a different one is refused. */
export const HOST_STATUS_SCHEMA = "netmap-testbed/host-status/v1";

/** `modinfo -k $(uname -r) NAME`: the file modprobe would load. */
export interface ObservedModuleFile {
  readonly path: string;
  readonly version: string | null;
  readonly srcversion: string | null;
  readonly depends: readonly string[];
  readonly vermagic: string | null;
}

/** A kernel module as /sys/module shows it, plus modinfo of its file. */
export interface ObservedModule {
  /** Name as the kernel shows it (dashes become underscores). */
  readonly name: string;
  readonly loaded: boolean;
  /** Built into the kernel (a /sys/module entry without initstate). */
  readonly builtin: boolean;
  readonly initstate: string | null;
  /** MODULE_VERSION of the loaded module, when it has one. */
  readonly version: string | null;
  /** srcversion of the loaded module: differs from the file's when the file was replaced since. */
  readonly srcversion: string | null;
  readonly refcnt: number | null;
  /** Modules using this one. */
  readonly holders: readonly string[];
  /** True when netmap lists this module among its holders (a netmap-patched driver). */
  readonly usesNetmap: boolean;
  readonly file: ObservedModuleFile | null;
}

/** A network interface and what drives it. */
export interface ObservedInterface {
  readonly name: string;
  /** Driver name from sysfs (`device/driver`), null for virtual devices. */
  readonly driver: string | null;
  /** Module of that driver, null when built in or virtual. */
  readonly module: string | null;
  /** rtnl link kind of a virtual device (veth, bridge, dummy, …). */
  readonly kind: string | null;
  /** The driver's module uses netmap (a patched driver). */
  readonly usesNetmap: boolean;
  readonly operstate: string | null;
}

/** One vale-ctl listing call exactly as it went. */
export interface ValeCtlRun {
  readonly valeCtl: string;
  readonly stdout: string;
  readonly stderr: string;
  /** 1 is normal for the listing; null when the script could not tell. */
  readonly exitCode: number | null;
}

export interface ObservedVale {
  /** True when the listing could be read (ports/anomalies are then the whole truth). */
  readonly available: boolean;
  /** Why the listing is not available (vale-ctl missing, its error text). */
  readonly error: string | null;
  /** The raw call, null when no vale-ctl was found. */
  readonly raw: ValeCtlRun | null;
  readonly ports: readonly ValePortEntry[];
  readonly anomalies: readonly ValeListAnomaly[];
}

export interface ObservedVmProcess {
  readonly pid: number;
  /** `#!` interpreter in front of the binary (test doubles); empty for a real QEMU. */
  readonly interpreter: readonly string[];
  /** The command line from /proc/PID/cmdline, starting with the QEMU binary. */
  readonly argv: readonly string[];
}

export interface ObservedVm {
  readonly name: string;
  /** The VM's state directory, when it exists. */
  readonly dir: string | null;
  /** systemd unit file name, when one is installed. */
  readonly unit: string | null;
  /** `systemctl is-active` of the unit (only with systemd running). */
  readonly unitActive: string | null;
  /** The argv vm.sh recorded when it started the VM. */
  readonly recordedArgv: readonly string[] | null;
  /** Running QEMU processes of this VM (normally 0 or 1). */
  readonly processes: readonly ObservedVmProcess[];
}

export interface ObservedNetmapBuild {
  readonly key: string;
  readonly dir: string;
  readonly fingerprint: string | null;
  readonly modules: readonly string[];
  /** The build install.sh/load.sh use for the running kernel (state's build-dir.RELEASE). */
  readonly current: boolean;
}

export interface ObservedQemuPrefix {
  readonly prefix: string;
  readonly exists: boolean;
  /** Has the stamp qemu/build.sh writes after a verified install. */
  readonly stamped: boolean;
  readonly configKey: string | null;
  readonly commit: string | null;
  readonly source: string | null;
  readonly binary: string;
  readonly executable: boolean;
}

export interface ObservedHost {
  readonly schema: typeof HOST_STATUS_SCHEMA;
  readonly hostname: string;
  readonly kernelRelease: string;
  /** Roots the script used (NMTB_STATE_DIR, NMTB_OPT_DIR, NMTB_CACHE_DIR). */
  readonly paths: { readonly stateDir: string; readonly optDir: string; readonly cacheDir: string };
  readonly netmap: {
    readonly loaded: boolean;
    readonly refcnt: number | null;
    readonly holders: readonly string[];
    /** /sys/module/netmap/parameters as name → text. */
    readonly params: Readonly<Record<string, string>>;
    readonly devNetmap: boolean;
  };
  readonly modules: readonly ObservedModule[];
  readonly interfaces: readonly ObservedInterface[];
  readonly vale: ObservedVale;
  readonly vms: readonly ObservedVm[];
  readonly netmapBuilds: readonly ObservedNetmapBuild[];
  readonly qemuPrefixes: readonly ObservedQemuPrefix[];
  /** What the host scripts recorded in the state directory. */
  readonly recorded: {
    readonly loadArgs: readonly string[] | null;
    readonly installedModules: readonly string[] | null;
    readonly touchedModules: readonly string[] | null;
    /** netmap-testbed-modules.service is installed (modules come back after a reboot). */
    readonly persistent: boolean;
  };
}

/** missing: the topology wants it, the host lacks it; extra: the host has it, the topology does not; different: both, not alike. */
export type DriftKind = "missing" | "extra" | "different";

export type DriftArea = "netmap" | "param" | "nic" | "module" | "vale" | "vm" | "qemu";

export interface DriftItem {
  readonly kind: DriftKind;
  readonly area: DriftArea;
  /** What it is about, e.g. `VALE port vale0:vm1`, `netmap param buf_num`, `NIC p0 (ens1f0)`. */
  readonly subject: string;
  /** What the topology wants (null for `extra`). */
  readonly expected: string | null;
  /** What the host has (null when it has nothing). */
  readonly actual: string | null;
  /** One sentence for people. */
  readonly message: string;
}
