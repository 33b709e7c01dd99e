/**
 * Things only one user can hold: a host NIC (one switch uplink or one VM), a VALE port (one VM NIC)
 * and a pipe end (one VM NIC). A second user would fail at deploy time with EBUSY, or worse,
 * silently steal traffic.
 */
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkExclusiveUse: Rule = (t, r) => {
  /** "host/nic" → human description of the first user. */
  const nicUsers = new Map<string, string>();
  for (const sw of t.switches) {
    if (sw.host === undefined) continue;
    for (const uplink of sw.uplinks) {
      const key = `${sw.host}/${uplink.nic}`;
      const user = nicUsers.get(key);
      if (user === undefined) nicUsers.set(key, `uplink of switch ${sw.name}`);
      else
        r.report(
          uplink.path,
          `NIC ${uplink.nic} of host ${sw.host} is already the ${user}; a NIC serves one switch uplink or one VM: use another NIC`,
        );
    }
  }
  const portUsers = new Map<string, string>();
  const pipeEndUsers = new Map<string, string>();
  for (const vm of t.vms) {
    for (const nic of vm.nics) {
      const self = `${vm.name} (nics[${nic.index}])`;
      if (nic.kind === "nic" && nic.nic !== undefined && vm.host !== undefined) {
        const key = `${vm.host}/${nic.nic}`;
        const user = nicUsers.get(key);
        if (user === undefined) nicUsers.set(key, `NIC of VM ${self}`);
        else
          r.report(
            childPath(nic.path, "nic"),
            `NIC ${nic.nic} of host ${vm.host} is already the ${user}; a NIC serves one switch uplink or one VM: use another NIC or a VALE port`,
          );
      } else if (nic.kind === "vale" && nic.switch !== undefined && nic.port !== undefined) {
        const key = `${nic.switch}/${nic.port}`;
        const user = portUsers.get(key);
        if (user === undefined) portUsers.set(key, self);
        else
          r.report(
            childPath(nic.path, "port"),
            `port ${nic.port} of switch ${nic.switch} is already used by VM ${user}; a VALE port serves one VM NIC: declare another port`,
          );
      } else if (
        nic.kind === "pipe" &&
        nic.pipe !== undefined &&
        nic.id !== undefined &&
        nic.end !== undefined
      ) {
        const key = `${nic.pipe}/${nic.id}/${nic.end}`;
        const user = pipeEndUsers.get(key);
        if (user === undefined) pipeEndUsers.set(key, self);
        else {
          const other = nic.end === "master" ? "slave" : "master";
          r.report(
            childPath(nic.path, "pipe"),
            `the ${nic.end} end of pipe ${nic.pipe} id ${nic.id} is already used by VM ${user}; use the ${other} end or another id`,
          );
        }
      }
    }
  }
};
