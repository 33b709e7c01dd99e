import * as pulumi from "@pulumi/pulumi";
import { qemuBuildKey, type QemuBuildPlan } from "../plan";
import { scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import { stageControllerSource, type StagedSource } from "./controller-source";
import { waitFor } from "./depends-on";
import { RemoteStep } from "./remote-step";
import { sourceArgsFor } from "./source-args";
import type { StepShare } from "./step-types";

export interface PtnetQemuArgs {
  host: NetmapHost;
  /** What to build and where (the planner's `qemuBuild`). */
  plan: QemuBuildPlan;
  /** netmap source tree on the host (NetmapKernel.sourceDir): QEMU's netmap backend needs its headers. */
  netmapSourceDir: pulumi.Input<string>;
  /** The netmap commit those headers are from (NetmapKernel.commit): another one rebuilds QEMU. */
  netmapCommit: pulumi.Input<string>;
  /** Keep the built prefix (and an uploaded source) on destroy, so a redeploy reuses it. Defaults to true. */
  keepBuild?: boolean;
  /** A `source: { path }` on the controller as already staged; defaults to staging it here. */
  stagedSource?: StagedSource;
  /**
   * Controller directory of build archives (`qemu-<configKey>.tgz`, as a local lab's native build
   * writes them): a host without the build imports one instead of compiling. Defaults to
   * `$NMTB_ARTIFACT_CACHE_DIR`; unset: identical hosts still share one build within a deployment.
   */
  artifactCacheDir?: string;
  /** Resources the build waits for (a local lab's native build filling the artifact cache). */
  buildAfter?: pulumi.Resource[];
}

/**
 * How hosts share one QEMU build: `qemu/build.sh check` finds it installed, `export` packs the
 * prefix, `import` installs another host's (or the native build's) archive after checking its
 * digest, key and prefix. QEMU has its prefix compiled in, and the prefix is the config key's.
 */
export function qemuShare(plan: QemuBuildPlan, cacheDir?: string): StepShare {
  const keyArgs = ["--config-key", plan.configKey, "--prefix", plan.prefix];
  return {
    key: `qemu-${plan.configKey}`,
    check: scriptCommand("qemu/build.sh", ["check", ...keyArgs], { timeoutSec: 300 }),
    export: scriptCommand("qemu/build.sh", ["export", ...keyArgs], { timeoutSec: 900 }),
    import: scriptCommand(
      "qemu/build.sh",
      ["import", "--archive", "-", ...keyArgs, "--install-deps", plan.installBuildDeps ? "1" : "0"],
      { timeoutSec: 900 },
    ),
    ...(cacheDir ? { cacheDir } : {}),
  };
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
    const keepBuild = args.keepBuild ?? true;
    const staged =
      plan.source.kind === "path"
        ? (args.stagedSource ?? stageControllerSource(plan.source.path))
        : undefined;
    const source = sourceArgsFor(plan.source, {
      name,
      what: "qemu",
      host: args.host,
      keepCache: keepBuild,
      staged,
      opts: { parent: this, dependsOn: opts?.dependsOn },
    });
    const sourceArgs = source.args;
    const keyArgs = ["--config-key", plan.configKey, "--prefix", plan.prefix];
    // The requested ref stands for the QEMU commit (a branch is resolved to a commit on the
    // host); a controller source's is its digest.
    const requested = plan.source.kind === "git" ? plan.source.ref : (staged?.sha256 ?? plan.source.path);
    const cacheDir = args.artifactCacheDir ?? process.env.NMTB_ARTIFACT_CACHE_DIR;
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
        ...(keepBuild ? {} : { delete: scriptCommand("qemu/build.sh", ["remove", ...keyArgs]) }),
        read: scriptCommand("qemu/build.sh", ["status", ...keyArgs]),
        triggers: [buildKey],
        builtOn: [args.host.scripts, ...source.builtOn],
        share: qemuShare(plan, cacheDir),
      },
      { parent: this, dependsOn: waitFor(opts?.dependsOn, ...(args.buildAfter ?? [])) },
    );
    this.binary = pulumi.output(plan.binary);
    this.commit = this.build.result.apply((result) => String(result.commit ?? ""));
    this.registerOutputs({ binary: this.binary, commit: this.commit });
  }
}
