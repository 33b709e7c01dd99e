/**
 * The netmap build: what the topology fixes (config key, configure options) and what only the
 * host knows (kernel release, resolved commit, kernel dirs). Option names checked against
 * luigirizzo/netmap `LINUX/configure` (its option parser and `print_help`).
 */
import { createHash } from "node:crypto";
import type { NetmapSettings, SourceSpec } from "../topology/model";
import { configKey } from "./canonical-hash";
import { sourceKeyPart } from "./source-key";
import {
  configureDriverName,
  isInTreeDriver,
  KNOWN_GOOD_DRIVER_VERSIONS,
  resolveDriverVersions,
} from "./driver-versions";
import type { NetmapBuildPlan } from "./types";

/** What the netmap config key covers: everything in a NetmapBuildPlan except the key itself. */
export interface NetmapConfigKeyInput {
  readonly source: SourceSpec;
  readonly drivers: readonly string[];
  readonly explicitDriverVersions: Readonly<Record<string, string>>;
  readonly configureOptions: readonly string[];
}

/** Facts the host reports at prepare time, needed for the host-specific configure options. */
export interface NetmapConfigureHost {
  /** `uname -r` of the kernel to build for. */
  readonly kernelRelease: string;
  /** Configured kernel tree (headers); defaults to /lib/modules/<kernelRelease>/build, as configure's own default. */
  readonly kernelDir?: string;
  /** Full kernel sources; required when an in-tree driver (see IN_TREE_DRIVERS) is built. */
  readonly kernelSources?: string;
  /** Where netmap's sources are on the host; the caller runs `<sourceDir>/configure` from its build directory. */
  readonly sourceDir: string;
}

/**
 * configure options fixed by the topology. Subsystems are enabled explicitly (vale, pipe and
 * ptnetmap are defaults today, but an older checkout spells ptnetmap differently and the testbed
 * cannot work without any of them). `--fail-on-driver-errors` because configure otherwise
 * disables a driver that fails to fetch, patch or compile and carries on.
 */
export function netmapConfigureOptions(drivers: readonly string[]): string[] {
  const names = sortedUnique(drivers).map(configureDriverName);
  return [
    names.length === 0 ? "--no-drivers" : `--drivers=${names.join(",")}`,
    "--enable-vale",
    "--enable-pipe",
    "--enable-ptnetmap",
    "--fail-on-driver-errors",
  ];
}

/**
 * The known-good table can change between releases of this package; a change for one of the
 * build's drivers must rebuild, so the rows that could apply are part of the key.
 */
function knownGoodRowsFor(drivers: readonly string[]): Record<string, Record<string, string>> {
  const rows: Record<string, Record<string, string>> = {};
  for (const [series, row] of Object.entries(KNOWN_GOOD_DRIVER_VERSIONS)) {
    const relevant = Object.entries(row).filter(([driver]) => drivers.includes(driver));
    if (relevant.length > 0) rows[series] = Object.fromEntries(relevant);
  }
  return rows;
}

export function netmapConfigKey(build: NetmapConfigKeyInput): string {
  const drivers = sortedUnique(build.drivers);
  return configKey({
    kind: "netmap",
    source: sourceKeyPart(build.source),
    drivers,
    explicitDriverVersions: { ...build.explicitDriverVersions },
    configureOptions: [...build.configureOptions],
    knownGood: knownGoodRowsFor(drivers),
  });
}

/**
 * The final key: the config key plus what only the host knows. Names the build directory and
 * stamp, so it is exactly what kernel-builds/netmap/build.sh computes (tested against it).
 */
export function netmapBuildKey(
  netmapConfigKeyValue: string,
  kernelRelease: string,
  resolvedCommit: string,
): string {
  return createHash("sha256")
    .update(`netmap-testbed/netmap-build/v1\n${netmapConfigKeyValue}\n${kernelRelease}\n${resolvedCommit}\n`)
    .digest("hex");
}

export function planNetmapBuild(settings: NetmapSettings): NetmapBuildPlan {
  const drivers = sortedUnique(settings.drivers);
  const configureOptions = netmapConfigureOptions(drivers);
  const explicitDriverVersions = { ...settings.driverVersions };
  const input: NetmapConfigKeyInput = {
    source: settings.source,
    drivers,
    explicitDriverVersions,
    configureOptions,
  };
  return { ...input, configKey: netmapConfigKey(input) };
}

/**
 * The netmap a recipe image's guests get: the topology's source and options, no NIC drivers (a
 * guest's NICs are ptnet, whose driver is part of netmap.ko with ptnetmap enabled).
 */
export function planGuestNetmapBuild(settings: NetmapSettings): NetmapBuildPlan {
  return planNetmapBuild({ ...settings, drivers: [], driverVersions: {} });
}

/**
 * The full configure argument vector for one host: kernel dirs, the topology's options and
 * `--select-version` for every driver with a topology or known-good version.
 */
export function netmapConfigureArgs(build: NetmapBuildPlan, host: NetmapConfigureHost): string[] {
  const inTree = build.drivers.filter(isInTreeDriver);
  if (inTree.length > 0 && !host.kernelSources) {
    throw new Error(
      `netmap drivers ${inTree.join(", ")} are patched from the kernel's own sources: ` +
        `install the full sources for ${host.kernelRelease} and pass their path as kernelSources`,
    );
  }
  const args = [`--kernel-dir=${host.kernelDir ?? `/lib/modules/${host.kernelRelease}/build`}`];
  if (inTree.length > 0) args.push(`--kernel-sources=${host.kernelSources}`);
  args.push(...build.configureOptions);
  const { versions } = resolveDriverVersions(build.drivers, build.explicitDriverVersions, host.kernelRelease);
  const selections = Object.keys(versions)
    .sort()
    .map((driver) => `${configureDriverName(driver)}:${versions[driver]}`);
  if (selections.length > 0) args.push(`--select-version=${selections.join(",")}`);
  return args;
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
