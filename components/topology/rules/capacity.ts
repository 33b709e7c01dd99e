/** netmap's fixed capacities: ports per VALE switch, switches per host, pipes per parent. */
import { DEFAULT_MAX_BRIDGES, MAX_PIPE_IDS, VALE_MAX_PORTS, VALE_USABLE_PORT_SLOTS } from "../limits";
import { childPath } from "../paths";
import type { Rule } from "./lookup";

export const checkCapacity: Rule = (t, r) => {
  for (const sw of t.switches) {
    // An uplink attached with the host stack (-h) takes two slots: the NIC and its host rings.
    const uplinkSlots = sw.uplinks.length * (sw.hostStack ? 2 : 1);
    const slots = sw.ports.length + uplinkSlots;
    if (slots > VALE_USABLE_PORT_SLOTS) {
      r.reportKey(
        sw.path,
        `switch ${sw.name} needs ${slots} port slots (${sw.ports.length} ports + ${uplinkSlots} for uplinks${sw.hostStack ? " with host stack" : ""}); ` +
          `netmap has ${VALE_MAX_PORTS} per switch and refuses new ports once ${VALE_USABLE_PORT_SLOTS} are in use: ` +
          `split the ports over several switches`,
      );
    }
  }

  const maxBridges = t.netmap?.params.max_bridges ?? DEFAULT_MAX_BRIDGES;
  const fromParam = t.netmap?.params.max_bridges !== undefined;
  for (const host of t.hosts) {
    const onHost = t.switches.filter((sw) => sw.host === host.name);
    if (onHost.length <= maxBridges) continue;
    const first = onHost[maxBridges];
    const limit = fromParam
      ? `netmap.params.max_bridges is ${maxBridges}`
      : `netmap allows ${maxBridges} VALE switches per host by default`;
    r.reportKey(
      first.path,
      `host ${host.name} has ${onHost.length} VALE switches but ${limit}; ` +
        `merge switches or raise netmap.params.max_bridges`,
    );
  }

  for (const pipe of t.pipes) {
    const ids = new Set<number>();
    for (const vm of t.vms) {
      for (const nic of vm.nics) {
        if (nic.kind !== "pipe" || nic.pipe !== pipe.name || nic.id === undefined) continue;
        ids.add(nic.id);
        if (ids.size === MAX_PIPE_IDS + 1) {
          r.report(
            childPath(nic.path, "id"),
            `pipe ${pipe.name} would have ${MAX_PIPE_IDS + 1} ids but netmap holds at most ${MAX_PIPE_IDS} pipes per parent (NM_MAXPIPES); declare another pipe for the rest`,
          );
        }
      }
    }
  }
};
