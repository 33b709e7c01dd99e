import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../host/shell-quote";
import type { LocalLabAccess } from "../topology/model";
import { packageRoot } from "./package-root";

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

function commandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
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

  constructor(name: string, args: LocalLabHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:LocalLabHost", name, {}, opts);
    const labDir = path.join(packageRoot(), "kernel-builds", "lab");
    const stateDir = path.join(
      args.stateRoot ?? path.join(os.homedir(), ".cache", "netmap-testbed", "lab"),
      name,
    );
    const imageArgs = args.imageCacheDir ? ["--cache-dir", args.imageCacheDir] : [];
    const image = new command.local.Command(
      `${name}-image`,
      { create: commandLine(["bash", path.join(labDir, "build-image.sh"), ...imageArgs]) },
      { parent: this },
    );
    const imageDir = image.stdout.apply((stdout) => {
      const dir = (JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { dir?: string }).dir;
      if (!dir) throw new Error(`${name}: build-image.sh printed no image dir`);
      return dir;
    });
    const boot = new command.local.Command(
      `${name}-boot`,
      {
        create: imageDir.apply((dir) =>
          commandLine([
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
            "--timeout",
            String(args.bootTimeoutSec ?? 300),
            ...(args.links ?? []).flatMap((link) => ["--link", link]),
          ]),
        ),
        delete: commandLine(["bash", path.join(labDir, "stop-host.sh"), "--state-dir", stateDir]),
      },
      { parent: this, dependsOn: [image] },
    );
    const result = boot.stdout.apply(
      (stdout) => JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as BootResult,
    );
    this.address = pulumi.output("127.0.0.1");
    this.port = result.sshPort;
    this.hostKey = result.hostKey;
    this.kernelRelease = result.kernelRelease;
    this.accel = result.accel;
    this.privateKey = pulumi.secret(
      result.privateKeyPath.apply((keyPath) => fs.readFileSync(keyPath, "utf8")),
    );
    this.registerOutputs({ port: this.port, hostKey: this.hostKey, accel: this.accel });
  }
}
