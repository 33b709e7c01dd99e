import * as pulumi from "@pulumi/pulumi";
import { planSwitch } from "../plan";
import type { HostNicSpec, SwitchSpec, VmSpec } from "../topology/model";
import { scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import type { NetmapKernel } from "./netmap-kernel";
import { RemoteStep } from "./remote-step";

export interface ValeSwitchArgs {
  host: NetmapHost;
  /** The switch, its persistent ports and uplinks (the topology's `switches:` entry). */
  spec: SwitchSpec;
  /** The host's NICs, to resolve uplink names to interfaces. Defaults to none. */
  hostNics?: readonly HostNicSpec[];
  /**
   * The VMs on the switch's host: a port that is a VM's NIC is created by that VM's QEMU when it
   * starts (and gone when it stops), so it gets no step here. Defaults to none.
   */
  vms?: readonly VmSpec[];
  /**
   * The netmap the ports live in: they are created once it is loaded and re-created whenever it is
   * reloaded (new module parameters). Defaults to none (netmap is loaded by other means).
   */
  netmap?: NetmapKernel;
}

/**
 * A VALE switch: one step per persistent port (created with its rings/slots and attached) and
 * per uplink NIC. Refresh reads each back from vale-ctl's listing, so a port that disappeared
 * shows as drift. Ports that are VMs' NICs belong to the VMs' QEMUs and get no step.
 */
export class ValeSwitch extends pulumi.ComponentResource {
  /** Attached names ("vale0:vm1") of the ports, in topology order. */
  public readonly portNames: string[];
  /** Steps of the persistent ports (those that are no VM's NIC), by port name. */
  public readonly ports: Record<string, RemoteStep> = {};
  public readonly uplinks: Record<string, RemoteStep> = {};

  constructor(name: string, args: ValeSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:ValeSwitch", name, {}, opts);
    const { spec } = args;
    const plan = planSwitch(spec, args.hostNics ?? [], args.vms ?? []);
    const vmPorts = new Set(plan.ports.filter((port) => port.vm !== undefined).map((port) => port.name));
    const connection = args.host.connection;
    const builtOn = [args.host.scripts, ...(args.netmap ? [args.netmap.loaded] : [])];
    const child = { parent: this, dependsOn: opts?.dependsOn };
    for (const port of spec.ports.filter((candidate) => !vmPorts.has(candidate.name))) {
      const common = ["--switch", spec.name, "--port", port.name];
      const geometry = [
        ...(port.rings !== undefined ? ["--rings", String(port.rings)] : []),
        ...(port.slots !== undefined ? ["--slots", String(port.slots)] : []),
      ];
      this.ports[port.name] = new RemoteStep(
        `${name}-port-${port.name}`,
        {
          kind: "ValePort",
          connection,
          step: `vale-port:${spec.name}:${port.name}`,
          create: scriptCommand("vale/vale-port.sh", ["apply", ...common, ...geometry]),
          delete: scriptCommand("vale/vale-port.sh", ["remove", ...common]),
          read: scriptCommand("vale/vale-port.sh", ["status", ...common]),
          // A port's geometry is fixed at creation: a change recreates it.
          triggers: geometry,
          builtOn,
        },
        child,
      );
    }
    for (const uplink of plan.uplinks) {
      const common = ["--switch", spec.name, "--interface", uplink.interface];
      const hostStack = spec.hostStack ? ["--host-stack", "1"] : [];
      this.uplinks[uplink.nic] = new RemoteStep(
        `${name}-uplink-${uplink.nic}`,
        {
          kind: "ValeUplink",
          connection,
          step: `vale-uplink:${spec.name}:${uplink.nic}`,
          create: scriptCommand("vale/vale-uplink.sh", ["attach", ...common, ...hostStack]),
          delete: scriptCommand("vale/vale-uplink.sh", ["detach", ...common]),
          read: scriptCommand("vale/vale-uplink.sh", ["status", ...common]),
          triggers: hostStack,
          builtOn,
        },
        child,
      );
    }
    this.portNames = plan.ports.map((port) => port.attachedName);
    this.registerOutputs({ portNames: this.portNames });
  }
}
