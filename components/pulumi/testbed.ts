import * as pulumi from "@pulumi/pulumi";
import { utils as sshUtils } from "ssh2";
import { planGuestNetmapBuild, planTestbed, type HostPlan, type TestbedPlan } from "../plan";
import type { ImageSpec, SourceSpec, TopologyModel } from "../topology/model";
import { stageModelSources, type StagedModel, type StagedSource } from "./controller-source";
import { pinSource, resolveGitRef, type RefResolution } from "./resolve-refs";
import { GuestImage } from "./guest-image";
import { scriptCommand } from "./host-script";
import { canBuildNatively, defaultLabArtifactDir, LabNativeBuild } from "./lab-native-build";
import { LabRecipeImage } from "./lab-recipe-image";
import { LocalLabHost } from "./local-lab-host";
import { NetmapHost } from "./netmap-host";
import { NetmapKernel } from "./netmap-kernel";
import { NetmapPipe } from "./netmap-pipe";
import { PtnetQemu } from "./ptnet-qemu";
import { PtnetVm } from "./ptnet-vm";
import { RemoteStep } from "./remote-step";
import { NOT_CREATED_TEXT } from "./step-result";
import { ValeSwitch } from "./vale-switch";

export interface TestbedCredentials {
  /** Private key for every remote host's `user`; pass a secret. */
  privateKey?: pulumi.Input<string | undefined>;
  /** Passphrase of an encrypted `privateKey`; pass a secret. */
  passphrase?: pulumi.Input<string | undefined>;
  /** Password instead of a key; pass a secret. */
  password?: pulumi.Input<string | undefined>;
  /** ssh-agent socket on the controller instead of a key. */
  agentSocket?: pulumi.Input<string | undefined>;
  /** Public key allowed into the VMs. Defaults to the public half of `privateKey`. */
  guestAuthorizedKey?: pulumi.Input<string | undefined>;
}

export interface TestbedArgs {
  /** The validated topology (loadTopology / parseTopology). */
  topology: TopologyModel;
  /** How to log in to remote hosts (localLab hosts bring their own keys). */
  credentials?: TestbedCredentials;
  /** Keep netmap and QEMU builds (and uploaded sources) on the hosts on destroy. Defaults to true. */
  keepBuildCache?: boolean;
  /**
   * Build netmap and the ptnet QEMU for local-lab hosts on this machine, in the lab image's own
   * root, and have the lab hosts import them (LabNativeBuild) instead of compiling under
   * emulation. Defaults to true; hosts whose build cannot be made here (in-tree drivers, a
   * `hostPath` source) compile as any host does.
   */
  nativeLabBuilds?: boolean;
}

/** A source as the deployment used it (the `sources` stack output). */
export interface SourceSummary {
  readonly kind: SourceSpec["kind"];
  /** The URL, or the path. */
  readonly location: string;
  /** The ref as the topology gives it (git sources). */
  readonly ref?: string;
  /** The commit every host and guest uses, when resolved here (git sources). */
  readonly commit?: string;
}

function describeSource(source: SourceSpec, resolution: RefResolution | undefined): SourceSummary {
  if (source.kind !== "git") return { kind: source.kind, location: source.path };
  return {
    kind: "git",
    location: source.git,
    ref: source.ref,
    ...(resolution?.kind === "commit" ? { commit: resolution.commit } : {}),
  };
}

export interface HostSummary {
  address: string;
  port: number;
  kernelRelease: string;
  /** The upstream netmap commit when known, else what the build is keyed by (sha256:… of a tarball). */
  netmapCommit: string;
  /** What the build is keyed by: the resolved commit, or the tarball's / directory's sha256. */
  netmapSourceId: string;
  buildKey: string;
  built: boolean;
}

/** The public key of a private key (encrypted: with its passphrase), for guests to trust the same identity as the hosts. */
export function publicKeyOf(privateKey: string, passphrase?: string): string {
  const parsed = sshUtils.parseKey(privateKey, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error) throw new Error(`sshPrivateKey is not a key ssh2 can read: ${key.message}`);
  return `${key.type} ${key.getPublicSSH().toString("base64")}`;
}

/**
 * A source's fetch arguments as this machine reads it, for a native build; undefined for a
 * `hostPath` source, which only the hosts have.
 */
function controllerSourceArgs(source: SourceSpec, staged: StagedSource | undefined): string[] | undefined {
  if (source.kind === "git") return ["--git", source.git, "--ref", source.ref];
  if (source.kind === "path" && staged) return ["--path", staged.archive];
  return undefined;
}

/**
 * How long a VM in a lab host without KVM gets to answer SSH. Both run under TCG: on a 2-core
 * machine a guest of the lab's image mounted its root after 6.5 min and had not answered SSH after
 * 24 (docs/local-lab.md, "Timings"), where under KVM it takes seconds.
 */
const TCG_LAB_GUEST_SSH_WAIT_SEC = 3600;

/** Lab hosts are cabled in a chain (lab1–lab2–…): each cable is a UDP port pair on 127.0.0.1. */
function labLinks(labHosts: readonly string[], host: string): string[] {
  const index = labHosts.indexOf(host);
  const base = 47000;
  const links: string[] = [];
  if (index > 0) links.push(`${base + 2 * (index - 1) + 1}:${base + 2 * (index - 1)}`);
  if (index < labHosts.length - 1) links.push(`${base + 2 * index}:${base + 2 * index + 1}`);
  return links;
}

/**
 * A whole testbed from a topology: per host, the scripts, netmap and patched drivers, the ptnet
 * QEMU, images, VALE switches, pipes and VMs, each after what it needs, so `pulumi up` creates
 * in dependency order and `pulumi destroy` undoes it in reverse.
 */
export class Testbed extends pulumi.ComponentResource {
  public readonly plan: TestbedPlan;
  public readonly hosts: Record<string, NetmapHost> = {};
  public readonly kernels: Record<string, NetmapKernel> = {};
  public readonly vms: Record<string, PtnetVm> = {};
  public readonly hostSummaries: pulumi.Output<Record<string, HostSummary>>;
  public readonly vmEndpoints: pulumi.Output<Record<string, { host: string; address: string; port: number }>>;
  /** The caller's `dependsOn`, handed to every host so that nothing starts before it. */
  private readonly dependsOn: pulumi.ComponentResourceOptions["dependsOn"];
  /** Where netmap and QEMU come from, with the commit a branch or tag was resolved to. */
  public readonly sources: Readonly<Record<string, SourceSummary>>;
  /** Controller sources (`source: { path }`), packed and checksummed once for every host. */
  private readonly staged: StagedModel["staged"];
  /** Recipe images, built (with their guests' netmap) once on this machine for every host. */
  private readonly recipeImages = new Map<string, LabRecipeImage>();

  constructor(name: string, args: TestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:Testbed", name, {}, opts);
    this.dependsOn = opts?.dependsOn;
    // One commit per git source for the whole deployment (every host, guest and build key).
    const netmapRef = this.resolveRef("netmap", args.topology.netmap.source);
    const qemuRef = args.topology.qemu ? this.resolveRef("qemu", args.topology.qemu.source) : undefined;
    // Controller sources are packed and checksummed once for every host; their digests key the builds.
    const { model, staged } = stageModelSources({
      ...args.topology,
      netmap: { ...args.topology.netmap, source: pinSource(args.topology.netmap.source, netmapRef) },
      ...(args.topology.qemu
        ? { qemu: { ...args.topology.qemu, source: pinSource(args.topology.qemu.source, qemuRef) } }
        : {}),
    });
    this.staged = staged;
    this.sources = {
      netmap: describeSource(args.topology.netmap.source, netmapRef),
      ...(args.topology.qemu ? { qemu: describeSource(args.topology.qemu.source, qemuRef) } : {}),
    };
    this.plan = planTestbed(model);
    const credentials = args.credentials ?? {};
    const labHosts = model.hosts.filter((host) => host.access.kind === "localLab").map((host) => host.name);
    const guestKey = pulumi
      .all([credentials.guestAuthorizedKey, credentials.privateKey, credentials.passphrase])
      .apply(
        ([explicit, privateKey, passphrase]) =>
          explicit ?? (privateKey ? publicKeyOf(privateKey, passphrase) : undefined),
      );

    const summaries: Record<string, pulumi.Output<HostSummary>> = {};
    const endpoints: Record<string, pulumi.Output<{ host: string; address: string; port: number }>> = {};
    for (const hostPlan of this.plan.hosts) {
      const host = this.deployHost(
        name,
        model,
        hostPlan,
        credentials,
        guestKey,
        labHosts,
        args.keepBuildCache ?? true,
        args.nativeLabBuilds ?? true,
      );
      const kernel = this.kernels[hostPlan.name];
      summaries[hostPlan.name] = pulumi
        .all([
          host.connection,
          kernel.kernelRelease,
          kernel.commit,
          kernel.upstreamCommit,
          kernel.buildKey,
          kernel.built,
        ])
        .apply(([connection, kernelRelease, netmapSourceId, upstreamCommit, buildKey, built]) => ({
          address: connection.address,
          port: connection.port,
          kernelRelease,
          netmapCommit: upstreamCommit ?? netmapSourceId,
          netmapSourceId,
          buildKey,
          built,
        }));
      for (const vm of hostPlan.vms) endpoints[vm.name] = this.vms[vm.name].sshEndpoint;
    }
    this.hostSummaries = pulumi.unsecret(pulumi.all(summaries));
    this.vmEndpoints = pulumi.all(endpoints);
    this.registerOutputs({ hosts: this.hostSummaries, vms: this.vmEndpoints, sources: this.sources });
  }

  /** The one build of a recipe image on this machine, shared by every host whose VMs boot it. */
  private recipeImage(name: string, model: TopologyModel, image: ImageSpec): LabRecipeImage {
    const existing = this.recipeImages.get(image.name);
    if (existing) return existing;
    const netmapFetchArgs = controllerSourceArgs(model.netmap.source, this.staged.netmap);
    if (!netmapFetchArgs) {
      throw new Error(
        `image ${image.name}: its guests' netmap is built on this machine, which cannot read a hostPath source (validate first)`,
      );
    }
    const recipe = new LabRecipeImage(
      `${name}-image-${image.name}`,
      { netmap: planGuestNetmapBuild(model.netmap), netmapFetchArgs, outDir: defaultLabArtifactDir() },
      { parent: this, dependsOn: this.dependsOn },
    );
    this.recipeImages.set(image.name, recipe);
    return recipe;
  }

  private resolveRef(what: string, source: SourceSpec): RefResolution | undefined {
    if (source.kind !== "git") return undefined;
    const resolution = resolveGitRef(source.git, source.ref);
    if (resolution.kind === "unresolved") {
      void pulumi.log.warn(
        `${what} source ${source.git}: cannot resolve "${source.ref}" from this machine (${resolution.why}); ` +
          "each host resolves it itself, so hosts may build different commits: pin a full commit to avoid that",
        this,
      );
    }
    return resolution;
  }

  private deployHost(
    name: string,
    model: TopologyModel,
    hostPlan: HostPlan,
    credentials: TestbedCredentials,
    guestKey: pulumi.Output<string | undefined>,
    labHosts: readonly string[],
    keepBuildCache: boolean,
    nativeLabBuilds: boolean,
  ): NetmapHost {
    const prefix = `${name}-${hostPlan.name}`;
    const access = hostPlan.spec.access;
    let host: NetmapHost;
    let hostGuestKey: pulumi.Output<string | undefined> = guestKey;
    let native: LabNativeBuild | undefined;
    let vmAccel: pulumi.Output<string> | undefined;
    let artifactCacheDir: string | undefined;
    if (access.kind === "localLab") {
      const lab = new LocalLabHost(
        prefix,
        { lab: access, links: labLinks(labHosts, hostPlan.name) },
        { parent: this, dependsOn: this.dependsOn },
      );
      // Nested KVM only where the lab host itself has hardware-assisted KVM (argvForAccel).
      vmAccel = lab.accel;
      const netmapFetchArgs = controllerSourceArgs(model.netmap.source, this.staged.netmap);
      if (nativeLabBuilds && netmapFetchArgs && canBuildNatively(hostPlan.netmapBuild)) {
        artifactCacheDir = defaultLabArtifactDir();
        const qemuSourceArgs =
          hostPlan.vms.length > 0 && hostPlan.qemuBuild
            ? controllerSourceArgs(hostPlan.qemuBuild.source, this.staged.qemu)
            : undefined;
        native = new LabNativeBuild(
          `${prefix}-native`,
          {
            imageDisk: lab.imageDisk,
            kernelRelease: lab.imageKernelRelease,
            netmap: hostPlan.netmapBuild,
            netmapFetchArgs,
            ...(hostPlan.qemuBuild && qemuSourceArgs
              ? { qemu: { plan: hostPlan.qemuBuild, sourceArgs: qemuSourceArgs } }
              : {}),
            outDir: artifactCacheDir,
          },
          { parent: this, dependsOn: this.dependsOn },
        );
      }
      host = new NetmapHost(
        prefix,
        {
          hostName: hostPlan.name,
          address: lab.address,
          port: lab.port,
          hostKey: lab.hostKey,
          privateKey: lab.privateKey,
        },
        { parent: this, dependsOn: this.dependsOn },
      );
      hostGuestKey = pulumi
        .all([guestKey, lab.privateKey])
        // No login key while the lab host is left out of the update (its VMs are then left out too).
        .apply(([key, labKey]) => key ?? (labKey ? publicKeyOf(labKey) : NOT_CREATED_TEXT));
    } else {
      host = new NetmapHost(
        prefix,
        {
          hostName: hostPlan.name,
          address: access.address,
          port: access.port,
          user: access.user,
          hostKey: access.hostKey,
          privateKey: credentials.privateKey as pulumi.Input<string> | undefined,
          passphrase: credentials.passphrase as pulumi.Input<string> | undefined,
          password: credentials.password as pulumi.Input<string> | undefined,
          agentSocket: credentials.agentSocket as pulumi.Input<string> | undefined,
        },
        { parent: this, dependsOn: this.dependsOn },
      );
    }
    this.hosts[hostPlan.name] = host;
    const child = { parent: host };

    const kernel = new NetmapKernel(
      `${prefix}-netmap`,
      {
        host,
        netmap: model.netmap,
        hostSpec: hostPlan.spec,
        keepBuildCache,
        vmTools: hostPlan.vms.length > 0,
        stagedSource: this.staged.netmap,
        ...(artifactCacheDir ? { artifactCacheDir } : {}),
        ...(native ? { buildAfter: [native.netmap] } : {}),
      },
      child,
    );
    this.kernels[hostPlan.name] = kernel;

    let hugepages: RemoteStep | undefined;
    if (hostPlan.hugepages) {
      const sizeArgs = ["--size", hostPlan.hugepages.size];
      hugepages = new RemoteStep(
        `${prefix}-hugepages`,
        {
          kind: "Hugepages",
          connection: host.connection,
          step: "hugepages",
          create: scriptCommand("host/hugepages.sh", [
            "apply",
            ...sizeArgs,
            "--count",
            String(hostPlan.hugepages.count),
          ]),
          delete: scriptCommand("host/hugepages.sh", ["remove", ...sizeArgs]),
          read: scriptCommand("host/hugepages.sh", ["status", ...sizeArgs]),
          triggers: [String(hostPlan.hugepages.count)],
          builtOn: [host.scripts],
        },
        child,
      );
    }

    const hostVms = model.vms.filter((vm) => vm.host === hostPlan.name);
    for (const spec of model.switches.filter((sw) => sw.host === hostPlan.name)) {
      new ValeSwitch(
        `${prefix}-${spec.name}`,
        { host, spec, hostNics: hostPlan.spec.nics, vms: hostVms, netmap: kernel },
        child,
      );
    }
    for (const spec of model.pipes.filter((pipe) => pipe.host === hostPlan.name)) {
      new NetmapPipe(`${prefix}-${spec.name}`, { spec, vms: hostVms }, child);
    }
    if (hostPlan.vms.length === 0 || !hostPlan.qemuBuild) return host;

    const qemu = new PtnetQemu(
      `${prefix}-qemu`,
      {
        host,
        plan: hostPlan.qemuBuild,
        netmapSourceDir: kernel.sourceDir,
        netmapCommit: kernel.commit,
        keepBuild: keepBuildCache,
        stagedSource: this.staged.qemu,
        ...(artifactCacheDir ? { artifactCacheDir } : {}),
        ...(native?.qemu ? { buildAfter: [native.qemu] } : {}),
      },
      child,
    );
    const images: Record<string, GuestImage> = {};
    for (const image of hostPlan.images) {
      const recipe = image.kind === "recipe" ? this.recipeImage(name, model, image) : undefined;
      images[image.name] = new GuestImage(
        `${prefix}-image-${image.name}`,
        { host, image, ...(recipe ? { recipe } : {}) },
        child,
      );
    }
    const authorizedKey = hostGuestKey.apply((key) => {
      if (!key)
        throw new Error(`host ${hostPlan.name}: VMs need a key to trust: set credentials.guestAuthorizedKey`);
      return key;
    });
    for (const vm of hostPlan.vms) {
      const image = images[vm.image.name];
      this.vms[vm.name] = new PtnetVm(
        `${prefix}-${vm.name}`,
        {
          host,
          plan: vm,
          imagePath: image.path,
          authorizedKey,
          guestNetmapSource: model.netmap.source,
          ...(image.boot && image.netmap
            ? {
                recipeImage: {
                  boot: image.boot,
                  netmapArchive: image.netmap.archivePath,
                  netmapParams: model.netmap.params,
                },
              }
            : {}),
          hostNics: hostPlan.spec.nics,
          qemu,
          netmap: kernel,
          ...(vmAccel
            ? {
                accel: vmAccel,
                // A guest emulated inside an emulated lab host boots many times slower.
                sshWaitSec: vmAccel.apply((accel) => (accel === "kvm" ? 300 : TCG_LAB_GUEST_SSH_WAIT_SEC)),
              }
            : {}),
          // Its VALE ports are its QEMU's own (created as it starts); netmap is `netmap` above.
          builtOn: [
            image.fetch,
            ...(image.netmap ? [image.netmap.upload] : []),
            ...(hugepages ? [hugepages] : []),
          ],
        },
        child,
      );
    }
    return host;
  }
}
