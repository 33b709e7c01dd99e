/**
 * vale-ctl argument vectors (luigirizzo/netmap apps/vale-ctl/vale-ctl.4 and vale-ctl.c):
 * `-n P` creates a persistent port, `-C` sets its geometry, `-a`/`-h` attach (without/with the
 * host stack), `-d` detaches, `-r` deletes.
 */
import type { HostNicSpec, SwitchSpec, ValePortSpec } from "../topology/model";
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

export function planValePort(switchName: string, port: ValePortSpec): ValePortPlan {
  const attachedName = valePortName(switchName, port.name);
  return {
    name: port.name,
    attachedName,
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

export function planSwitch(spec: SwitchSpec, hostNics: readonly HostNicSpec[]): SwitchPlan {
  return {
    name: spec.name,
    ports: spec.ports.map((port) => planValePort(spec.name, port)),
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
