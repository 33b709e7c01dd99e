import * as pulumi from "@pulumi/pulumi";
import { qemuBuildKey, type QemuBuildPlan } from "../plan";
import { scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import { RemoteStep } from "./remote-step";

export interface PtnetQemuArgs {
  host: NetmapHost;
  /** What to build and where (the planner's `qemuBuild`). */
  plan: QemuBuildPlan;
  /** netmap source tree on the host (NetmapKernel.sourceDir): QEMU's netmap backend needs its headers. */
  netmapSourceDir: pulumi.Input<string>;
  /** The netmap commit those headers are from (NetmapKernel.commit): another one rebuilds QEMU. */
  netmapCommit: pulumi.Input<string>;
  /** Keep the built prefix on destroy, so a redeploy reuses it. Defaults to true. */
  keepBuild?: boolean;
}

/**
 * The QEMU fork with the ptnet passthrough device and the netmap backend, built on the host into
 * a prefix keyed by its configuration; an unchanged key does no work.
 */
export class PtnetQemu extends pulumi.ComponentResource {
  /** Absolute path of qemu-system-x86_64 on the host. */
  public readonly binary: pulumi.Output<string>;
  /** The resolved commit of the QEMU source. */
  public readonly commit: pulumi.Output<string>;
  public readonly build: RemoteStep;

  constructor(name: string, args: PtnetQemuArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:PtnetQemu", name, {}, opts);
    const { plan } = args;
    const sourceArgs =
      plan.source.kind === "git"
        ? ["--git", plan.source.git, "--ref", plan.source.ref]
        : ["--path", plan.source.path];
    const keyArgs = ["--config-key", plan.configKey, "--prefix", plan.prefix];
    // The requested ref stands for the QEMU commit: a branch is resolved to a commit on the host.
    const requested = plan.source.kind === "git" ? plan.source.ref : plan.source.path;
    const buildKey = pulumi
      .output(args.netmapCommit)
      .apply((netmapCommit) => qemuBuildKey(plan.configKey, requested, netmapCommit));
    this.build = new RemoteStep(
      `${name}-build`,
      {
        kind: "QemuBuild",
        connection: args.host.connection,
        step: "qemu-build",
        create: pulumi
          .output(args.netmapSourceDir)
          .apply((netmapSource) =>
            scriptCommand("qemu/build.sh", [
              "apply",
              ...sourceArgs,
              ...keyArgs,
              "--netmap-source",
              netmapSource,
              "--install-deps",
              plan.installBuildDeps ? "1" : "0",
            ]),
          ),
        ...(args.keepBuild === false
          ? { delete: scriptCommand("qemu/build.sh", ["remove", ...keyArgs]) }
          : {}),
        read: scriptCommand("qemu/build.sh", ["status", ...keyArgs]),
        triggers: [buildKey],
        builtOn: [args.host.scripts],
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.binary = pulumi.output(plan.binary);
    this.commit = this.build.result.apply((result) => String(result.commit ?? ""));
    this.registerOutputs({ binary: this.binary, commit: this.commit });
  }
}
