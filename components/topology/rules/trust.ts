/**
 * Untrusted VMs get VALE ports only: a VALE port has a private memory region and the switch copies
 * packets between regions, while both ends of a pipe share their parent's region and a passed-through
 * NIC exposes the global NIC region — a guest could read or corrupt other users' packets.
 */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkTrust: Rule = (t, r) => {
  for (const vm of t.vms) {
    if (vm.trust !== "untrusted") continue;
    for (const nic of vm.nics) {
      if (nic.kind === "vale") continue;
      const what =
        nic.kind === "pipe"
          ? "a pipe end shares its memory region with the other end"
          : "a host NIC exposes netmap's global NIC memory region";
      r.report(
        childPath(nic.path, nic.kind),
        `VM ${vm.name} is untrusted (the default) and ${what}; set trust: trusted or attach through a VALE port`,
      );
    }
  }
};
