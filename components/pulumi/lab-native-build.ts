import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isInTreeDriver, type NetmapBuildPlan, type QemuBuildPlan } from "../plan";
import { LocalStep } from "./local-step";
import { buildArgs } from "./netmap-kernel";
import { stringField } from "./step-result";

/** Where a local lab's native builds put their archives, the lab hosts' artifact cache. */
export function defaultLabArtifactDir(): string {
  return (
    process.env.NMTB_ARTIFACT_CACHE_DIR ?? path.join(os.homedir(), ".cache", "netmap-testbed", "artifacts")
  );
}

export interface LabNativeBuildArgs {
  /** The lab image's raw disk (LocalLabHost.imageDisk): its root filesystem is the build's. */
  imageDisk: pulumi.Input<string>;
  /** The image's kernel release (LocalLabHost.imageKernelRelease), which the lab host boots. */
  kernelRelease: pulumi.Input<string>;
  netmap: NetmapBuildPlan;
  /** fetch.sh's source arguments as the build machine reads them (a controller path, not the host's copy). */
  netmapFetchArgs: readonly string[];
  /** The QEMU build, for hosts with VMs. */
  qemu?: { plan: QemuBuildPlan; sourceArgs: readonly string[] };
  /** Where the archives go: the lab hosts' artifact cache. */
  outDir: string;
  /** Extracted image roots, one per disk content. Defaults to ~/.cache/netmap-testbed/native-roots. */
  rootCache?: string;
}

/**
 * Whether the controller can make a lab host's netmap build: not with in-tree drivers, which
 * need the full kernel sources the host's prepare step installs.
 */
export function canBuildNatively(netmap: NetmapBuildPlan): boolean {
  return !netmap.drivers.some(isInTreeDriver);
}

/**
 * netmap (and the ptnet QEMU) for local-lab hosts, compiled on the controller in the lab image's
 * own root (kernel-builds/lab/native-build.sh) instead of inside the TCG-emulated host, where
 * netmap's configure alone takes ~45 min. The archives land in the artifact cache under the keys
 * the hosts' build steps look up (the build key, `qemu-<configKey>`), so those steps import them,
 * checked by digest, instead of compiling; if a key differs, the host simply builds.
 */
export class LabNativeBuild extends pulumi.ComponentResource {
  public readonly netmap: LocalStep;
  public readonly qemu?: LocalStep;

  constructor(name: string, args: LabNativeBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:LabNativeBuild", name, {}, opts);
    const script = path.join("kernel-builds", "lab", "native-build.sh");
    const rootCache = args.rootCache ?? path.join(os.homedir(), ".cache", "netmap-testbed", "native-roots");
    const common = (disk: string): string[] => [
      "--disk",
      disk,
      "--root-cache",
      rootCache,
      "--out",
      args.outDir,
    ];
    const child = { parent: this, dependsOn: opts?.dependsOn };

    this.netmap = new LocalStep(
      `${name}-netmap`,
      {
        kind: "NativeBuild",
        step: `${name}-netmap`,
        create: pulumi.all([args.imageDisk, args.kernelRelease]).apply(([disk, kernelRelease]) => ({
          argv: [
            "bash",
            script,
            "netmap",
            ...common(disk),
            "--",
            ...args.netmapFetchArgs,
            "--",
            // Exactly the host build step's arguments but for the source dir and commit, which
            // native-build.sh takes from its own fetch (the same tree, named by the same content).
            ...buildArgs(args.netmap, { sourceDir: "-", commit: "-" }, { kernelRelease }).slice(4),
          ],
        })),
      },
      child,
    );
    if (!args.qemu) return;
    const { plan, sourceArgs } = args.qemu;
    const netmapSourceDir = this.netmap.result.apply((result) =>
      stringField(result, "sourceDir", `${name}-netmap (native-build.sh)`),
    );
    this.qemu = new LocalStep(
      `${name}-qemu`,
      {
        kind: "NativeBuild",
        step: `${name}-qemu`,
        create: pulumi.all([args.imageDisk, netmapSourceDir]).apply(([disk, netmapSource]) => ({
          argv: [
            "bash",
            script,
            "qemu",
            ...common(disk),
            "--",
            "apply",
            ...sourceArgs,
            "--config-key",
            plan.configKey,
            "--prefix",
            plan.prefix,
            "--netmap-source",
            netmapSource,
            // The root is the controller's own copy: its build dependencies are always installed.
            "--install-deps",
            "1",
          ],
        })),
        builtOn: [this.netmap],
      },
      child,
    );
    this.registerOutputs({});
  }
}
