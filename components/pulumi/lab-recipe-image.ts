import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { NetmapBuildPlan } from "../plan";
import { LabNativeBuild } from "./lab-native-build";
import { LocalStep } from "./local-step";
import { stringField } from "./step-result";

/** A file on the controller, named by its content, for a host to receive over SFTP. */
export interface ControllerFile {
  readonly path: string;
  readonly sha256: string;
}

/** The archive a controller step printed (`archive`, `sha256`): the pack and the native build alike. */
function archiveOf(result: Readonly<Record<string, unknown>>, step: string): ControllerFile {
  return { path: stringField(result, "archive", step), sha256: stringField(result, "sha256", step) };
}

export interface LabRecipeImageArgs {
  /** The guests' netmap build: the topology's, without NIC drivers (ptnet is in netmap.ko). */
  netmap: NetmapBuildPlan;
  /** fetch.sh's source arguments as the controller reads them (git, or the staged archive). */
  netmapFetchArgs: readonly string[];
  /** Where the netmap archive goes: the artifact cache. */
  outDir: string;
  /** Base image cache. Defaults to build-image.sh's (~/.cache/netmap-testbed/images). */
  imageCacheDir?: string;
}

/**
 * A guest image built on the controller from the lab recipe (kernel-builds/lab/build-image.sh,
 * the local lab hosts' own image), packed for upload with its kernel and initrd, and netmap built
 * for that very kernel in the image's own root (LabNativeBuild). Hosts receive both over SFTP
 * (GuestImage, PtnetVm), so the guests need no internet and no compiler: the image's nmtb-seed
 * installs netmap from the VM's seed at boot.
 */
export class LabRecipeImage extends pulumi.ComponentResource {
  /** The packed image (disk.qcow2, vmlinuz, initrd.img, kernel-release). */
  public readonly archive: pulumi.Output<ControllerFile>;
  /** The kernel the image boots and its netmap is built for. */
  public readonly kernelRelease: pulumi.Output<string>;
  /** netmap's export archive (netmap/export.sh) for that kernel. */
  public readonly netmapArchive: pulumi.Output<ControllerFile>;

  constructor(name: string, args: LabRecipeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:LabRecipeImage", name, {}, opts);
    // Relative: the local step runner resolves it in the package it runs from (any checkout).
    const labDir = "kernel-builds/lab";
    const imageArgs = args.imageCacheDir ? ["--cache-dir", args.imageCacheDir] : [];
    const child = { parent: this, dependsOn: opts?.dependsOn };
    const image = new LocalStep(
      `${name}-build`,
      {
        kind: "LabImage",
        step: `${name}-build`,
        create: { argv: ["bash", path.join(labDir, "build-image.sh"), ...imageArgs] },
      },
      child,
    );
    const imageDir = image.result.apply((result) => stringField(result, "dir", `${name}-build`));
    const imageDisk = image.result.apply((result) => stringField(result, "disk", `${name}-build`));
    this.kernelRelease = image.result.apply((result) =>
      stringField(result, "kernelRelease", `${name}-build`),
    );
    const pack = new LocalStep(
      `${name}-pack`,
      {
        kind: "GuestImagePack",
        step: `${name}-pack`,
        create: imageDir.apply((dir) => ({
          argv: ["bash", path.join(labDir, "pack-guest-image.sh"), "--image-dir", dir],
        })),
        builtOn: [image],
      },
      { parent: this },
    );
    this.archive = pack.result.apply((result) => archiveOf(result, `${name}-pack`));
    const native = new LabNativeBuild(
      `${name}-native`,
      {
        imageDisk,
        kernelRelease: this.kernelRelease,
        netmap: args.netmap,
        netmapFetchArgs: args.netmapFetchArgs,
        outDir: args.outDir,
      },
      { parent: this, dependsOn: [image] },
    );
    this.netmapArchive = native.netmap.result.apply((result) => archiveOf(result, `${name}-native-netmap`));
    this.registerOutputs({ archive: this.archive, netmapArchive: this.netmapArchive });
  }
}
