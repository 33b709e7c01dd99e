/**
 * vale-ctl argument vectors (luigirizzo/netmap apps/vale-ctl/vale-ctl.4 and vale-ctl.c):
 * `-n P` creates a persistent port, `-C` sets its geometry, `-a`/`-h` attach (without/with the
 * host stack), `-d` detaches, `-r` deletes.
 */
import type { HostNicSpec, SwitchSpec, ValePortSpec, VmSpec } from "../topology/model";
import type { SwitchPlan, ValePortPlan, ValeUplinkPlan } from "./types";

/**
 * `-C` takes "tx_slots,rx_slots,tx_rings,rx_rings" (shorter forms exist). vale-ctl leaves an
 * unset field 0 and the kernel (netmap_vp_create → nm_bound_var) turns 0 into its default
 * (1024 slots, 1 ring), so 0 is the documented-by-code way to say "netmap's default".
 */
export function valeGeometryArgs(port: Pick<ValePortSpec, "rings" | "slots">): string[] {
  if (port.rings === undefined && port.slots === undefined) return [];
  const slots = port.slots ?? 0;
  const rings = port.rings ?? 0;
  return ["-C", `${slots},${slots},${rings},${rings}`];
}

export function valePortName(switchName: string, port: string): string {
  return `${switchName}:${port}`;
}

export function planValePort(switchName: string, port: ValePortSpec, vm?: string): ValePortPlan {
  const attachedName = valePortName(switchName, port.name);
  return {
    name: port.name,
    attachedName,
    ...(vm !== undefined ? { vm } : {}),
    createArgs: ["-n", port.name, ...valeGeometryArgs(port)],
    attachArgs: ["-a", attachedName],
    detachArgs: ["-d", attachedName],
    deleteArgs: ["-r", port.name],
  };
}

export function planValeUplink(switchName: string, nic: HostNicSpec, hostStack: boolean): ValeUplinkPlan {
  const attachedName = valePortName(switchName, nic.interface);
  return {
    nic: nic.name,
    interface: nic.interface,
    attachArgs: [hostStack ? "-h" : "-a", attachedName],
    detachArgs: ["-d", attachedName],
  };
}

/** "valeSW:PORT" → the VM whose NIC that port is. */
export function vmPortOwners(vms: readonly VmSpec[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const vm of vms) {
    for (const nic of vm.nics) {
      if (nic.kind === "vale") owners.set(valePortName(nic.switch, nic.port), vm.name);
    }
  }
  return owners;
}

export function planSwitch(
  spec: SwitchSpec,
  hostNics: readonly HostNicSpec[],
  vms: readonly VmSpec[] = [],
): SwitchPlan {
  const owners = vmPortOwners(vms);
  return {
    name: spec.name,
    ports: spec.ports.map((port) =>
      planValePort(spec.name, port, owners.get(valePortName(spec.name, port.name))),
    ),
    uplinks: spec.uplinks.map((nicName) => {
      const nic = hostNics.find((candidate) => candidate.name === nicName);
      if (!nic) {
        throw new Error(
          `switches.${spec.name}.uplinks: host ${spec.host} has no NIC ${nicName} (validate first)`,
        );
      }
      return planValeUplink(spec.name, nic, spec.hostStack);
    }),
  };
}
