/** Explicit MACs are unique (generated ones avoid them by construction, see macs.ts). */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkExplicitMacs: Rule = (t, r) => {
  const owners = new Map<string, string>();
  for (const vm of t.vms) {
    for (const nic of vm.nics) {
      if (nic.mac === undefined) continue;
      const owner = owners.get(nic.mac);
      const self = `${vm.name} nics[${nic.index}]`;
      if (owner === undefined) owners.set(nic.mac, self);
      else
        r.report(
          childPath(nic.path, "mac"),
          `mac ${nic.mac} is already used by VM ${owner}; give each NIC its own MAC or leave mac out to get a generated one`,
        );
    }
  }
};
