import * as pulumi from "@pulumi/pulumi";
import {
  configureDriverName,
  isInTreeDriver,
  netmapBuildKey,
  planNetmapBuild,
  planNetmapLoad,
  resolveDriverVersions,
  type NetmapBuildPlan,
  type NetmapLoadPlan,
} from "../plan";
import type { HostSpec, NetmapSettings } from "../topology/model";
import { repeatFlag, scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import type { StagedSource } from "./controller-source";
import { RemoteStep } from "./remote-step";
import { sourceArgsFor } from "./source-args";
import { stringField } from "./step-result";
import type { StepShare } from "./step-types";

export interface NetmapKernelArgs {
  /** The host to build and load netmap on. */
  host: NetmapHost;
  /** Source, drivers, driver versions and module parameters (the topology's `netmap:` block). */
  netmap: NetmapSettings;
  /** The host's management interface and test NICs (the topology's host entry). */
  hostSpec: HostSpec;
  /** Keep sources and builds on the host on destroy, so a redeploy reuses them. Defaults to true. */
  keepBuildCache?: boolean;
  /** Install the boot unit that reloads netmap and the patched drivers after a reboot. Defaults to true. */
  persist?: boolean;
  /**
   * The host runs VMs: prepare also installs what the VM steps run (seed ISO tool, qemu-img,
   * python3 for QMP, taskset). Defaults to false.
   */
  vmTools?: boolean;
  /** Swap a driver even when it drives the management interface (the SSH session drops). Defaults to false. */
  allowManagementDriver?: boolean;
  /**
   * Identical hosts (same build key: same kernel release, source commit and build settings) build
   * once in a deployment; the others import the build through the controller. Defaults to true.
   */
  shareBuilds?: boolean;
  /**
   * Controller directory keeping exported builds across deployments (`<buildKey>.tgz`, newest 8),
   * so a later deploy to a new identical host imports too. Defaults to `$NMTB_ARTIFACT_CACHE_DIR`;
   * unset: no controller cache (archives are kept in memory during one deployment only).
   */
  artifactCacheDir?: string;
  /**
   * A `source: { path }` on the controller as already staged (Testbed stages it once for all
   * hosts); defaults to staging it here.
   */
  stagedSource?: StagedSource;
  /** Resources the build step waits for (a local lab's native build filling the artifact cache). */
  buildAfter?: pulumi.Resource[];
}

/** The build and load half of what `prepare` found, as the next steps need it. */
interface PreparedHost {
  kernelRelease: string;
  kernelSources?: string;
}

/** load.sh arguments: the management interface, each patched NIC and every module parameter. */
export function loadArgs(load: NetmapLoadPlan, allowManagementDriver: boolean): string[] {
  return [
    "--management-interface",
    load.managementInterface,
    ...repeatFlag(
      "--nic",
      load.patchedNics.map((nic) => `${nic.interface}:${nic.driver}`),
    ),
    ...repeatFlag(
      "--param",
      Object.entries(load.moduleParams)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => `${name}=${value}`),
    ),
    ...(allowManagementDriver ? ["--allow-management-driver"] : []),
  ];
}

/** build.sh arguments once the host's kernel release and the resolved source are known. */
export function buildArgs(
  build: NetmapBuildPlan,
  source: { sourceDir: string; commit: string },
  host: PreparedHost,
): string[] {
  const { versions } = resolveDriverVersions(build.drivers, build.explicitDriverVersions, host.kernelRelease);
  const handledByScript = /^--(no-)?drivers|^--fail-on-driver-errors$/;
  return [
    "--source-dir",
    source.sourceDir,
    "--commit",
    source.commit,
    "--config-key",
    build.configKey,
    "--kernel-release",
    host.kernelRelease,
    ...repeatFlag("--driver", build.drivers.map(configureDriverName)),
    ...repeatFlag(
      "--select-version",
      Object.entries(versions)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([driver, version]) => `${driver}:${version}`),
    ),
    ...repeatFlag(
      "--configure-arg",
      build.configureOptions.filter((option) => !handledByScript.test(option)),
    ),
    ...(host.kernelSources ? ["--kernel-sources", host.kernelSources] : []),
  ];
}

/**
 * How identical hosts share one build: the build key (kernel release + commit + build settings,
 * the same on every host by construction) names it; build.sh --check-only finds a current one;
 * export.sh packs it, import.sh unpacks it and has build.sh adopt it after checking its stamp.
 */
export function buildShare(buildKey: string, args: readonly string[], cacheDir?: string): StepShare {
  return {
    key: buildKey,
    check: scriptCommand("netmap/build.sh", [...args, "--check-only"], { timeoutSec: 300 }),
    export: scriptCommand("netmap/export.sh", ["--build-key", buildKey], { timeoutSec: 900 }),
    import: scriptCommand("netmap/import.sh", args, { timeoutSec: 900 }),
    ...(cacheDir ? { cacheDir } : {}),
  };
}

/**
 * netmap and the netmap-patched NIC drivers on one host: prepare → fetch → build → install →
 * load → persist, each an idempotent host script. Destroy unloads everything and restores the
 * stock drivers, checking the host against the baseline recorded by prepare.
 */
export class NetmapKernel extends pulumi.ComponentResource {
  /** The host's kernel release, as prepare found it. */
  public readonly kernelRelease: pulumi.Output<string>;
  /** The netmap source tree on the host (for the QEMU build's headers). */
  public readonly sourceDir: pulumi.Output<string>;
  /** What the build is keyed by: the resolved netmap commit (or sha256 of a tarball/directory). */
  public readonly commit: pulumi.Output<string>;
  /**
   * The upstream git commit the source is, when known: a git source's, or the one a
   * `git archive` tarball or a clean checkout records. Undefined for other tarballs.
   */
  public readonly upstreamCommit: pulumi.Output<string | undefined>;
  /** The final build key: config key + kernel release + commit. */
  public readonly buildKey: pulumi.Output<string>;
  /** Whether this deployment compiled (false: an identical build was reused). */
  public readonly built: pulumi.Output<boolean>;
  /**
   * The load step: everything that needs netmap loaded is built on it (`builtOn`), so that
   * reloading netmap (new module parameters) re-creates it too.
   */
  public readonly loaded: RemoteStep;
  /**
   * The prepare step, which installs the host's packages (with `vmTools`, what VM steps run):
   * steps that only need those wait for it (dependsOn) without being re-created with it.
   */
  public readonly prepared: RemoteStep;
  /** The last step (persist, or load without it): netmap is loaded and will be after a reboot. */
  public readonly ready: RemoteStep;

  constructor(name: string, args: NetmapKernelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:NetmapKernel", name, {}, opts);
    const build = planNetmapBuild(args.netmap);
    const load = planNetmapLoad(args.netmap, args.hostSpec);
    const allowManagementDriver = args.allowManagementDriver ?? false;
    const keepCache = args.keepBuildCache ?? true;
    const connection = args.host.connection;
    // Each step stands on the one before (builtOn): what changes replaces the first step it
    // concerns, and the engine replaces everything built on that one, deleting it first (VMs and
    // ports, then persist, unload, uninstall) before anything is created again.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    const needKernelSources = build.drivers.some(isInTreeDriver) ? "1" : "0";

    const prepare = (this.prepared = new RemoteStep(
      `${name}-prepare`,
      {
        kind: "NetmapPrepare",
        connection,
        step: "netmap-prepare",
        create: scriptCommand("netmap/prepare.sh", [
          "--install-deps",
          "1",
          "--need-kernel-sources",
          needKernelSources,
          "--vm-tools",
          args.vmTools ? "1" : "0",
        ]),
        // Forgets the baseline once everything else is undone (and checked against it).
        delete: scriptCommand("netmap/teardown.sh", ["--keep-cache", keepCache ? "1" : "0"]),
        builtOn: [args.host.scripts],
      },
      child,
    ));
    const prepared = prepare.result.apply(
      (result): PreparedHost => ({
        kernelRelease: stringField(result, "kernelRelease", "netmap-prepare"),
        ...(typeof result.kernelSources === "string" && result.kernelSources
          ? { kernelSources: result.kernelSources }
          : {}),
      }),
    );
    this.kernelRelease = prepared.kernelRelease;

    const fetchSource = sourceArgsFor(build.source, {
      name,
      what: "netmap",
      host: args.host,
      keepCache,
      staged: args.stagedSource,
      after: prepare,
      opts: child,
    });
    const fetch = new RemoteStep(
      `${name}-fetch`,
      {
        kind: "NetmapFetch",
        connection,
        step: "netmap-fetch",
        create: scriptCommand("netmap/fetch.sh", fetchSource.args),
        triggers: fetchSource.args,
        builtOn: [prepare, ...fetchSource.builtOn],
      },
      child,
    );
    const source = fetch.result.apply((result) => ({
      sourceDir: stringField(result, "sourceDir", "netmap-fetch"),
      commit: stringField(result, "commit", "netmap-fetch"),
    }));
    this.sourceDir = source.sourceDir;
    this.commit = source.commit;
    this.upstreamCommit = fetch.result.apply((result) =>
      typeof result.upstreamCommit === "string" && /^[0-9a-f]{40}$/.test(result.upstreamCommit)
        ? result.upstreamCommit
        : undefined,
    );
    this.buildKey = pulumi
      .all([source, prepared])
      .apply(([src, host]) => netmapBuildKey(build.configKey, host.kernelRelease, src.commit));

    const buildArgv = pulumi.all([source, prepared]).apply(([src, host]) => buildArgs(build, src, host));
    const cacheDir = args.artifactCacheDir ?? process.env.NMTB_ARTIFACT_CACHE_DIR;
    const buildStep = new RemoteStep(
      `${name}-build`,
      {
        kind: "NetmapBuild",
        connection,
        step: "netmap-build",
        create: buildArgv.apply((a) => scriptCommand("netmap/build.sh", a)),
        triggers: [this.buildKey],
        builtOn: [fetch],
        share:
          (args.shareBuilds ?? true)
            ? pulumi.all([buildArgv, this.buildKey]).apply(([a, key]) => buildShare(key, a, cacheDir))
            : undefined,
      },
      // After fetch, so after whatever the whole component waits for; and after buildAfter.
      { parent: this, dependsOn: args.buildAfter ?? [] },
    );
    this.built = buildStep.result.apply((result) => result.built === true);

    const install = new RemoteStep(
      `${name}-install`,
      {
        kind: "NetmapInstall",
        connection,
        step: "netmap-install",
        create: pulumi
          .all([buildStep.result, prepared])
          .apply(([result, host]) =>
            scriptCommand("netmap/install.sh", [
              "--build-dir",
              stringField(result, "buildDir", "netmap-build"),
              "--kernel-release",
              host.kernelRelease,
            ]),
          ),
        // Removes the installed modules, overrides and tools and checks the host against the
        // baseline, which stays for the next install on this prepared host.
        delete: scriptCommand("netmap/teardown.sh", ["--keep-cache", "1", "--keep-baseline", "1"]),
        builtOn: [buildStep],
      },
      child,
    );

    this.loaded = new RemoteStep(
      `${name}-load`,
      {
        kind: "NetmapLoad",
        connection,
        step: "netmap-load",
        create: scriptCommand("netmap/load.sh", loadArgs(load, allowManagementDriver)),
        delete: scriptCommand("netmap/unload.sh", []),
        read: scriptCommand("netmap/status.sh", []),
        // Module parameters are load-time only, and the NIC/driver pairs are what it swaps.
        triggers: loadArgs(load, allowManagementDriver),
        builtOn: [install],
      },
      child,
    );

    let last: RemoteStep = this.loaded;
    if (args.persist ?? true) {
      last = new RemoteStep(
        `${name}-persist`,
        {
          kind: "NetmapPersist",
          connection,
          step: "netmap-persist",
          create: scriptCommand("netmap/persist.sh", ["apply"]),
          delete: scriptCommand("netmap/persist.sh", ["remove"]),
          builtOn: [this.loaded],
        },
        child,
      );
    }
    this.ready = last;
    this.registerOutputs({
      kernelRelease: this.kernelRelease,
      commit: this.commit,
      buildKey: this.buildKey,
      built: this.built,
      ready: last.id,
    });
  }
}
