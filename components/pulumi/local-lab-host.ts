import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { LocalLabAccess } from "../topology/model";
import { LocalStep } from "./local-step";
import { isNotCreated, stringField } from "./step-result";

export interface LocalLabHostArgs {
  /** Size of the lab host (the topology's `localLab:` block). */
  lab: LocalLabAccess;
  /** Cable NICs to other lab hosts: UDP port pairs on 127.0.0.1 ("LOCAL:PEER"). Defaults to none. */
  links?: readonly string[];
  /** Where lab hosts keep overlays, keys and console logs. Defaults to ~/.cache/netmap-testbed/lab. */
  stateRoot?: string;
  /** Base image cache. Defaults to build-image.sh's (~/.cache/netmap-testbed/images). */
  imageCacheDir?: string;
  /** Seconds to wait for the host's SSH after boot. Defaults to 300. */
  bootTimeoutSec?: number;
}

interface BootResult {
  sshPort: number;
  hostKey: string;
  privateKeyPath: string;
  kernelRelease: string;
  accel: string;
}

/**
 * A Debian bookworm host made on the controller itself: the base image recipe
 * (kernel-builds/lab/build-image.sh, cached by recipe) booted under QEMU (KVM when it really
 * works, TCG otherwise) with SSH forwarded on 127.0.0.1, a host key generated before boot and so
 * pinned, and a per-host client key. Destroy powers it off and removes its overlay.
 */
export class LocalLabHost extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly hostKey: pulumi.Output<string>;
  /** The per-host client key; secret. */
  public readonly privateKey: pulumi.Output<string>;
  public readonly kernelRelease: pulumi.Output<string>;
  /** "kvm" or "tcg", as detected. */
  public readonly accel: pulumi.Output<string>;
  /** The lab image's raw disk on the controller (the root filesystem native builds use). */
  public readonly imageDisk: pulumi.Output<string>;
  /** The kernel release the image boots. */
  public readonly imageKernelRelease: pulumi.Output<string>;

  constructor(name: string, args: LocalLabHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:LocalLabHost", name, {}, opts);
    // Relative: the local step runner resolves it in the package it runs from (any checkout).
    const labDir = "kernel-builds/lab";
    const stateDir = path.join(
      args.stateRoot ?? path.join(os.homedir(), ".cache", "netmap-testbed", "lab"),
      name,
    );
    const imageArgs = args.imageCacheDir ? ["--cache-dir", args.imageCacheDir] : [];
    const image = new LocalStep(
      `${name}-image`,
      {
        kind: "LabImage",
        step: `${name}-image`,
        create: { argv: ["bash", path.join(labDir, "build-image.sh"), ...imageArgs] },
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    const imageField = (field: string): pulumi.Output<string> =>
      image.result.apply((result) => stringField(result, field, `${name}-image (build-image.sh)`));
    const imageDir = imageField("dir");
    this.imageDisk = imageField("disk");
    this.imageKernelRelease = imageField("kernelRelease");
    const boot = new LocalStep(
      `${name}-boot`,
      {
        kind: "LabHost",
        step: `${name}-boot`,
        create: imageDir.apply((dir) => ({
          argv: [
            "bash",
            path.join(labDir, "boot-host.sh"),
            "--name",
            name,
            "--image-dir",
            dir,
            "--state-dir",
            stateDir,
            "--memory",
            String(args.lab.memoryMiB),
            "--cpus",
            String(args.lab.cpus),
            "--disk-gib",
            String(args.lab.diskGiB),
            "--timeout",
            String(args.bootTimeoutSec ?? 300),
            ...(args.links ?? []).flatMap((link) => ["--link", link]),
          ],
        })),
        delete: { argv: ["bash", path.join(labDir, "stop-host.sh"), "--state-dir", stateDir] },
        builtOn: [image],
      },
      { parent: this },
    );
    const result = boot.result.apply((json) => json as unknown as BootResult);
    this.address = pulumi.output("127.0.0.1");
    this.port = result.sshPort;
    this.hostKey = result.hostKey;
    this.kernelRelease = result.kernelRelease;
    this.accel = result.accel;
    this.privateKey = pulumi.secret(
      boot.result.apply((json) =>
        isNotCreated(json)
          ? ""
          : fs.readFileSync(stringField(json, "privateKeyPath", `${name}-boot`), "utf8"),
      ),
    );
    this.registerOutputs({ port: this.port, hostKey: this.hostKey, accel: this.accel });
  }
}
