import * as pulumi from "@pulumi/pulumi";
import { argvForAccel, type VmPlan } from "../plan";
import type { HostNicSpec, SourceSpec } from "../topology/model";
import { repeatFlag, scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import type { NetmapKernel } from "./netmap-kernel";
import type { PtnetQemu } from "./ptnet-qemu";
import { waitFor } from "./depends-on";
import { RemoteStep } from "./remote-step";

export interface PtnetVmArgs {
  host: NetmapHost;
  /** The VM's plan: its exact QEMU argv, files, NICs and SSH forward port. */
  plan: VmPlan;
  /** Path of the verified base image on the host (GuestImage.path). */
  imagePath: pulumi.Input<string>;
  /** Public key (one OpenSSH line) allowed to log in to the guest. */
  authorizedKey: pulumi.Input<string>;
  /**
   * netmap source a published image's guest builds its netmap.ko (with the ptnet driver) from at
   * first boot (a git source only; the guest needs internet). Defaults to none (the image must
   * have it). Recipe images get netmap from `recipeImage` instead.
   */
  guestNetmapSource?: SourceSpec;
  /** What a recipe image's guest boots and installs (GuestImage.boot and .netmap); required for one. */
  recipeImage?: RecipeImageOnHost;
  /** The host's NICs, to check CPU pins against the NUMA node of NICs passed to the VM. */
  hostNics?: readonly HostNicSpec[];
  /** Seconds to wait for the guest's SSH after start. Defaults to 300. */
  sshWaitSec?: pulumi.Input<number>;
  /** Restart QEMU when it exits with an error (systemd `Restart=on-failure`). Defaults to false. */
  restartOnFailure?: boolean;
  /** The ptnet QEMU the VM runs: rebuilding it re-creates the VM. */
  qemu: PtnetQemu;
  /** The netmap the VM's ports live in: reloading it re-creates the VM. Defaults to none. */
  netmap?: NetmapKernel;
  /**
   * Other steps the VM stands on (its VALE ports, the host's hugepages): created first, and a
   * re-created one re-creates the VM. Defaults to none.
   */
  builtOn?: readonly RemoteStep[];
  /**
   * How the host runs VMs: "kvm" (the planner's argv) or "tcg" (argvForAccel), e.g. a local-lab
   * host's own accelerator (LocalLabHost.accel). Defaults to "kvm".
   */
  accel?: pulumi.Input<string>;
}

export interface RecipeImageOnHost {
  /** The image's kernel and initrd on the host. */
  boot: pulumi.Input<{ kernel: string; initrd: string }>;
  /** netmap's export archive for that kernel on the host: the seed carries it into the guest. */
  netmapArchive: pulumi.Input<string>;
  /** netmap module parameters the guest loads it with (the topology's `netmap.params`). */
  netmapParams: Readonly<Record<string, number>>;
}

/** make-seed.sh's arguments past the common ones: how the guest gets netmap. */
function seedNetmapArgs(
  plan: VmPlan,
  source: SourceSpec | undefined,
  recipe: RecipeImageOnHost | undefined,
): pulumi.Output<string[]> {
  if (plan.image.kind === "url") {
    return pulumi.output(
      source?.kind === "git" ? ["--netmap-source-git", source.git, "--ref", source.ref] : [],
    );
  }
  if (!recipe)
    throw new Error(`VM ${plan.name}: image ${plan.image.name} is built from a recipe: pass recipeImage`);
  const params = Object.entries(recipe.netmapParams).map(([name, value]) => `${name}=${value}`);
  return pulumi
    .output(recipe.netmapArchive)
    .apply((archive) => [
      "--format",
      "lab",
      "--netmap-archive",
      archive,
      ...repeatFlag("--netmap-param", params),
    ]);
}

/** Guest hostnames allow lower-case letters, digits and "-" only. */
function guestHostname(vm: string): string {
  return vm
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 63);
}

/**
 * A VM on ptnet: a cloud-init seed, then a systemd unit on the host running the planner's QEMU
 * argv, with vCPUs pinned and a bounded wait for the guest's SSH. Destroy powers it down over
 * QMP (then kills it after a timeout) and removes its unit and overlay.
 */
export class PtnetVm extends pulumi.ComponentResource {
  /** Where the guest's sshd is reached: 127.0.0.1:`port` on the host (tunnel through the host's SSH). */
  public readonly sshEndpoint: pulumi.Output<{ host: string; address: string; port: number }>;
  public readonly vm: RemoteStep;

  constructor(name: string, args: PtnetVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:PtnetVm", name, {}, opts);
    const { plan } = args;
    const connection = args.host.connection;
    const netmapArgs = seedNetmapArgs(plan, args.guestNetmapSource, args.recipeImage);
    const bootArgs = pulumi
      .output(args.recipeImage?.boot)
      .apply((boot) => (boot ? ["--kernel", boot.kernel, "--initrd", boot.initrd] : []));
    const seed = new RemoteStep(
      `${name}-seed`,
      {
        kind: "VmSeed",
        connection,
        step: `vm-seed:${plan.name}`,
        create: pulumi
          .all([args.authorizedKey, netmapArgs])
          .apply(([key, netmap]) =>
            scriptCommand("image/make-seed.sh", [
              "--out",
              plan.paths.seed,
              "--hostname",
              guestHostname(plan.name),
              "--ssh-key",
              key,
              ...netmap,
            ]),
          ),
        // Runs after the VM's stop: the VM's directory (seed, console log) goes with it.
        delete: scriptCommand("vm/vm.sh", ["purge", "--name", plan.name, "--state-dir", plan.paths.dir]),
        builtOn: [args.host.scripts],
      },
      // The seed tool comes with the host's packages (NetmapKernel's prepare, with vmTools).
      { parent: this, dependsOn: waitFor(opts?.dependsOn, args.netmap?.prepared) },
    );
    const passedInterfaces = plan.spec.nics.flatMap((nic) => {
      if (nic.kind !== "nic") return [];
      const hostNic = (args.hostNics ?? []).find((candidate) => candidate.name === nic.nic);
      return hostNic ? [hostNic.interface] : [];
    });
    const vmFlags = ["--name", plan.name, "--state-dir", plan.paths.dir];
    // An accelerator that resolves to nothing (its lab host left out of this update) is the default too.
    const qemuArgs = pulumi.output(args.accel).apply((given) => {
      const accel = given ?? "kvm";
      if (accel !== "kvm" && accel !== "tcg")
        throw new Error(`${name}: accel must be kvm or tcg, not ${accel}`);
      return argvForAccel(plan.qemuArgs, accel);
    });
    this.vm = new RemoteStep(
      `${name}-vm`,
      {
        kind: "Vm",
        connection,
        step: `vm:${plan.name}`,
        create: pulumi
          .all([args.imagePath, qemuArgs, bootArgs, args.sshWaitSec ?? 300])
          .apply(([image, argv, boot, sshWaitSec]) =>
            scriptCommand("vm/vm.sh", [
              "start",
              ...vmFlags,
              "--image",
              image,
              "--seed",
              plan.paths.seed,
              "--ssh-port",
              String(plan.sshForwardPort),
              "--wait-ssh",
              String(sshWaitSec),
              "--restart",
              args.restartOnFailure ? "on-failure" : "no",
              ...(plan.spec.pin && plan.spec.pin.length > 0 ? ["--pin", plan.spec.pin.join(",")] : []),
              ...repeatFlag("--nic-interface", passedInterfaces),
              ...boot,
              "--",
              ...argv,
            ]),
          ),
        delete: scriptCommand("vm/vm.sh", ["stop", ...vmFlags]),
        read: scriptCommand("vm/vm.sh", ["status", ...vmFlags]),
        // New hardware means a new VM: the argv is the hardware.
        triggers: [qemuArgs.apply((argv) => JSON.stringify(argv))],
        builtOn: [
          seed,
          args.qemu.build,
          ...(args.netmap ? [args.netmap.loaded] : []),
          ...(args.builtOn ?? []),
        ],
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.sshEndpoint = pulumi.output({
      host: args.host.hostName,
      address: "127.0.0.1",
      port: plan.sshForwardPort,
    });
    this.registerOutputs({ sshEndpoint: this.sshEndpoint });
  }
}
