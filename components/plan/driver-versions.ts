/**
 * Which NIC drivers netmap builds how, and which versions of Intel's out-of-tree drivers to ask
 * for. Facts from luigirizzo/netmap `LINUX/configure` (driver lists) and `LINUX/final-patches/`
 * (the `intel--DRIVER--VERSION` patches, i.e. the versions `--select-version` can pick); see
 * docs/plan.md for the evidence behind each known-good row.
 */

/**
 * Drivers configure fetches and builds from an external release (its `edrv enable` list):
 * Intel's out-of-tree drivers, Mellanox's mlx5 and a custom virtio_net. Only these take
 * `--select-version`.
 */
export const EXTERNAL_DRIVERS: readonly string[] = [
  "e1000e",
  "i40e",
  "ice",
  "igb",
  "ixgbe",
  "ixgbevf",
  "mlx5",
  "virtio_net",
];

/** Intel's out-of-tree drivers: the ones the known-good table covers. */
export const INTEL_OUT_OF_TREE_DRIVERS: readonly string[] = [
  "e1000e",
  "i40e",
  "ice",
  "igb",
  "ixgbe",
  "ixgbevf",
];

/**
 * Drivers configure patches from the kernel's own sources (every driver it knows that is not
 * external): these need the full kernel sources (`--kernel-sources=`), not only headers.
 */
export const IN_TREE_DRIVERS: readonly string[] = [
  "e1000",
  "forcedeth",
  "r8169",
  "stmmac",
  "veth",
  "vmxnet3",
];

/** configure names single-file drivers after their source file ("veth.c"); the kernel module is "veth". */
const CONFIGURE_FILE_DRIVERS: readonly string[] = ["forcedeth", "r8169", "veth", "virtio_net"];

/** The name `--drivers=` and `--select-version=` expect for a kernel module name. */
export function configureDriverName(driver: string): string {
  return CONFIGURE_FILE_DRIVERS.includes(driver) ? `${driver}.c` : driver;
}

export function isExternalDriver(driver: string): boolean {
  return EXTERNAL_DRIVERS.includes(driver);
}

export function isInTreeDriver(driver: string): boolean {
  return IN_TREE_DRIVERS.includes(driver);
}

/**
 * Versions known to compile, by kernel series ("MAJOR.MINOR"). Every version has an
 * `intel--DRIVER--VERSION` patch in netmap's LINUX/final-patches. Series not listed (or drivers
 * missing from a row) fall back to netmap's own default: we only list what someone built.
 */
export const KNOWN_GOOD_DRIVER_VERSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "5.4": { i40e: "2.15.9", ixgbe: "5.7.1" },
  "5.8": { i40e: "2.15.9" },
  "5.11": { i40e: "2.15.9" },
  "6.1": { i40e: "2.28.9", ixgbe: "6.1.6" },
};

/** Where each known-good row comes from (shown by docs and the plan tree). */
export const KNOWN_GOOD_EVIDENCE: Readonly<Record<string, string>> = {
  "5.4":
    "luigirizzo/netmap#816 (i40e 2.15.9 builds on 5.4.0-91-generic) and #697 (ixgbe 5.7.1 builds on Ubuntu 20.04)",
  "5.8": "luigirizzo/netmap#816 (i40e 2.15.9 builds on 5.8.0-63-generic)",
  "5.11": "luigirizzo/netmap#816 (i40e 2.15.9 builds on 5.11.0-41-generic)",
  "6.1":
    "measured on Debian 12 (6.1.0-50-amd64): netmap's defaults ixgbe 5.15.2 / i40e 2.19.3 fail, these build",
};

export type DriverVersionSource = "topology" | "known-good" | "netmap-default";

export interface ResolvedDriverVersions {
  /** driver → version to pass with `--select-version`; drivers left to netmap's default are absent. */
  readonly versions: Readonly<Record<string, string>>;
  /** Every requested driver that takes a version (external drivers, or any given explicitly). */
  readonly source: Readonly<Record<string, DriverVersionSource>>;
}

/** "6.1.0-50-amd64" → "6.1"; undefined when the release does not start with MAJOR.MINOR. */
export function kernelSeries(kernelRelease: string): string | undefined {
  const match = /^(\d+)\.(\d+)(?:\D|$)/.exec(kernelRelease);
  return match ? `${Number(match[1])}.${Number(match[2])}` : undefined;
}

/**
 * Explicit topology versions win; else the known-good version for the kernel series; else
 * netmap's default (no `--select-version` for that driver). In-tree drivers have no version
 * (configure picks their patch by kernel version) unless the topology names one.
 */
export function resolveDriverVersions(
  drivers: readonly string[],
  explicit: Readonly<Record<string, string>>,
  kernelRelease: string,
): ResolvedDriverVersions {
  const series = kernelSeries(kernelRelease);
  const knownGood = series === undefined ? undefined : KNOWN_GOOD_DRIVER_VERSIONS[series];
  const versions: Record<string, string> = {};
  const source: Record<string, DriverVersionSource> = {};
  for (const driver of [...new Set(drivers)].sort()) {
    const given = Object.prototype.hasOwnProperty.call(explicit, driver) ? explicit[driver] : undefined;
    const good =
      knownGood && Object.prototype.hasOwnProperty.call(knownGood, driver) ? knownGood[driver] : undefined;
    if (given !== undefined) {
      versions[driver] = given;
      source[driver] = "topology";
    } else if (good !== undefined) {
      versions[driver] = good;
      source[driver] = "known-good";
    } else if (isExternalDriver(driver)) {
      source[driver] = "netmap-default";
    }
  }
  return { versions, source };
}

/** The known-good rows that mention a driver, for display: { "6.1": "6.1.6", … }. */
export function knownGoodVersionsOf(driver: string): Readonly<Record<string, string>> {
  const rows: Record<string, string> = {};
  for (const [series, row] of Object.entries(KNOWN_GOOD_DRIVER_VERSIONS)) {
    if (Object.prototype.hasOwnProperty.call(row, driver)) rows[series] = row[driver];
  }
  return rows;
}
