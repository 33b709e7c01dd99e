/**
 * A VALE port that is a VM's NIC belongs to the VM's QEMU: the ptnet QEMU opens `valeX:PORT`
 * itself, which creates the port with netmap's default geometry (netmap-unipi/qemu net/netmap.c
 * registers with no ring or slot counts) and removes it when the VM stops. A pre-made persistent
 * port cannot be passed through: on netmap 89607e14 its first open renames it (netmap.c
 * netmap_update_config), QEMU then fails with "POOLS_INFO_GET … Invalid argument" and the port
 * stays unusable until reboot. So rings/slots on a VM's port could never take effect: refuse them.
 */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkVmPorts: Rule = (t, r) => {
  for (const vm of t.vms) {
    for (const nic of vm.nics) {
      if (nic.kind !== "vale" || nic.switch === undefined || nic.port === undefined) continue;
      const port = t.switches.find((sw) => sw.name === nic.switch)?.ports.find((p) => p.name === nic.port);
      if (!port) continue;
      for (const field of ["rings", "slots"] as const) {
        if (port[field] === undefined) continue;
        r.report(
          childPath(port.path, field),
          `port ${nic.port} of switch ${nic.switch} is VM ${vm.name}'s NIC, which the ptnet QEMU opens with netmap's default geometry (1 ring, 1024 slots): ${field} cannot apply to it; remove ${field}, or keep it on a port no VM uses (pkt-gen on the host)`,
        );
      }
    }
  }
};
