/**
 * The validated topology model: what a topology file means once every name has been checked,
 * every reference resolved and every default applied. Everything downstream (planner,
 * components, CLI) works on this model only, never on raw YAML.
 *
 * Collections are arrays in file order (not maps) so that iteration, MAC allocation and plans
 * are deterministic.
 */

/**
 * Where a source tree comes from: a git repository at a ref, a tarball or directory on the
 * controller (uploaded to each host), or one already on each host.
 */
export type SourceSpec =
  | { readonly kind: "git"; readonly git: string; readonly ref: string }
  /**
   * A tarball (.tar, .tar.gz, .tgz, .tar.xz) or directory on the controller, as an absolute path
   * (a relative one in the file is read from the topology file's directory). Deployments pack a
   * directory, checksum it and upload it over SFTP to each host's source cache.
   */
  | {
      readonly kind: "path";
      readonly path: string;
      /**
       * sha256 of the archive the hosts get, filled in on the controller before planning
       * (stageModelSources): builds are keyed by the contents, not by where they lie.
       */
      readonly sha256?: string;
    }
  /** A tarball or directory already present on each host (air-gapped labs with their own copies). */
  | { readonly kind: "hostPath"; readonly path: string };

export interface NetmapSettings {
  readonly source: SourceSpec;
  /** netmap-patched NIC drivers to build and load, e.g. ["ixgbe", "i40e"]; [] builds none. */
  readonly drivers: readonly string[];
  /** Explicit driver versions (`--select-version=drv:ver`); missing drivers fall back to the known-good table. */
  readonly driverVersions: Readonly<Record<string, string>>;
  /** netmap module parameters (checked against the known list), applied at load time. */
  readonly params: Readonly<Record<string, number>>;
}

export interface QemuSettings {
  readonly source: SourceSpec;
  /**
   * apt-get QEMU's build dependencies on each host before building (default true). False is for
   * hosts whose packages someone else manages (an air-gapped mirror, a configuration-management
   * tool): they must already have them, and a missing one fails QEMU's configure, which names it.
   */
  readonly installBuildDeps?: boolean;
}

/** The hash functions an image may be pinned with: what publishers put in their *SUMS files. */
export type DigestAlgorithm = "sha256" | "sha512";

/** An image file's expected digest; the download is kept only when it matches. */
export interface ImageDigest {
  readonly algorithm: DigestAlgorithm;
  /** Lower-case hex: 64 digits for sha256, 128 for sha512. */
  readonly hex: string;
}

/** A published image: downloaded by each host and kept only when it matches its digest. */
export interface DownloadedImageSpec {
  readonly kind: "url";
  readonly name: string;
  readonly url: string;
  readonly digest: ImageDigest;
  readonly os: "linux" | "freebsd";
}

/** The image recipes the controller can build (kernel-builds/lab/build-image.sh). */
export const IMAGE_RECIPES = ["lab"] as const;
export type ImageRecipe = (typeof IMAGE_RECIPES)[number];

/**
 * An image the controller builds from a recipe (the local lab's Debian image), uploaded to each
 * host with its kernel and initrd. Its guests get netmap built on the controller for that very
 * kernel, so they need no internet.
 */
export interface RecipeImageSpec {
  readonly kind: "recipe";
  readonly name: string;
  readonly recipe: ImageRecipe;
  readonly os: "linux";
}

export type ImageSpec = DownloadedImageSpec | RecipeImageSpec;

export interface HostNicSpec {
  /** Topology name of the NIC (key under `hosts.H.nics`). */
  readonly name: string;
  /** Linux interface name on the host, e.g. ens1f0. */
  readonly interface: string;
  /** Kernel driver the NIC uses, e.g. ixgbe, i40e, virtio_net. */
  readonly driver: string;
}

export interface HugepagesSpec {
  readonly size: "2M" | "1G";
  readonly count: number;
}

/** A host reached over SSH at a fixed address, with its pinned host key. */
export interface RemoteAccess {
  readonly kind: "remote";
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** OpenSSH public key line ("ssh-ed25519 AAAA…"): the only host key trusted for this host. */
  readonly hostKey: string;
}

/** A host created on the user's own machine by the local virtual lab (address and host key known only once it boots). */
export interface LocalLabAccess {
  readonly kind: "localLab";
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

export interface HostSpec {
  readonly name: string;
  readonly access: RemoteAccess | LocalLabAccess;
  /** Interface carrying the SSH connection: its driver is never unloaded. */
  readonly managementInterface: string;
  readonly nics: readonly HostNicSpec[];
  readonly hugepages?: HugepagesSpec;
}

export interface ValePortSpec {
  readonly name: string;
  /** Rings per direction (vale-ctl -C …,tx_rings,rx_rings); undefined = netmap's default. */
  readonly rings?: number;
  /** Slots per ring (vale-ctl -C tx_slots,rx_slots,…); undefined = netmap's default. */
  readonly slots?: number;
}

export interface SwitchSpec {
  /** VALE switch name, starts with "vale". */
  readonly name: string;
  readonly host: string;
  readonly ports: readonly ValePortSpec[];
  /** Names of host NICs (HostNicSpec.name) attached to the switch. */
  readonly uplinks: readonly string[];
  /** Attach uplinks with `vale-ctl -h` (keep the host stack) instead of `-a`. */
  readonly hostStack: boolean;
}

export interface PipeSpec {
  readonly name: string;
  readonly host: string;
}

export type VmNicSpec =
  | { readonly kind: "vale"; readonly switch: string; readonly port: string; readonly mac: string }
  | {
      readonly kind: "pipe";
      readonly pipe: string;
      readonly id: number;
      readonly end: "master" | "slave";
      readonly mac: string;
    }
  | { readonly kind: "nic"; readonly nic: string; readonly mac: string };

export interface VmSpec {
  readonly name: string;
  readonly host: string;
  readonly image: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  /** Host CPUs, one per vCPU, or undefined for no pinning. */
  readonly pin?: readonly number[];
  readonly hugepages: boolean;
  readonly trust: "trusted" | "untrusted";
  readonly nics: readonly VmNicSpec[];
}

export interface TopologyModel {
  readonly apiVersion: "netmap-testbed/v1";
  readonly name: string;
  /** Path of the file the model was read from (for messages), or "<inline>". */
  readonly sourceFile: string;
  readonly netmap: NetmapSettings;
  /** Required when the topology has VMs. */
  readonly qemu?: QemuSettings;
  readonly images: readonly ImageSpec[];
  readonly hosts: readonly HostSpec[];
  readonly switches: readonly SwitchSpec[];
  readonly pipes: readonly PipeSpec[];
  readonly vms: readonly VmSpec[];
}
