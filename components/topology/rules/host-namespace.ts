/**
 * One network-interface namespace per host: the management interface, the test NICs, every
 * persistent VALE port (`vale-ctl -n P` creates a Linux netdev named P) and, through netmap's
 * name lookup, every pipe parent. A clash would make netmap or Linux pick the wrong device.
 */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkHostNamespaces: Rule = (t, r) => {
  for (const host of t.hosts) {
    /** Interface name → what already holds it, for messages. */
    const taken = new Map<string, string>();
    if (host.managementInterface !== undefined) {
      taken.set(host.managementInterface, `the management interface of host ${host.name}`);
    }
    for (const nic of host.nics) {
      if (nic.interface === undefined) continue;
      const holder = taken.get(nic.interface);
      const path = childPath(nic.path, "interface");
      if (holder === undefined) {
        taken.set(nic.interface, `the interface of NIC ${nic.name} on host ${host.name}`);
      } else if (nic.interface === host.managementInterface) {
        r.report(
          path,
          `NIC ${nic.name} uses ${nic.interface}, ${holder}: it carries the SSH connection and is never touched; use another interface for test traffic`,
        );
      } else {
        r.report(path, `interface ${nic.interface} is already ${holder}; give each NIC its own interface`);
      }
    }
    for (const sw of t.switches) {
      if (sw.host !== host.name) continue;
      for (const port of sw.ports) {
        const holder = taken.get(port.name);
        if (holder === undefined) {
          taken.set(port.name, `VALE port ${port.name} of switch ${sw.name}`);
          continue;
        }
        r.reportKey(
          port.path,
          `VALE port ${port.name} would create a network interface ${port.name} on host ${host.name}, ` +
            `but that name is already ${holder}; port names must be unique across all switches and interfaces of a host: rename it`,
        );
      }
    }
    for (const pipe of t.pipes) {
      if (pipe.host !== host.name) continue;
      const holder = taken.get(pipe.name);
      if (holder === undefined) continue;
      r.reportKey(
        pipe.path,
        `pipe ${pipe.name} has the name of ${holder}: netmap would make that device the pipe's parent and share its memory; rename the pipe`,
      );
    }
  }
};
