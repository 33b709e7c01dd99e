/** Host resources given to VMs: pinned CPUs and hugepages. */
import { childPath, indexPath } from "../paths";
import { byName, type Rule } from "./lookup";

export const checkVmResources: Rule = (t, r) => {
  const hosts = byName(t.hosts);
  /** "host/cpu" → VM holding it. */
  const pinned = new Map<string, string>();
  for (const vm of t.vms) {
    const host = vm.host === undefined ? undefined : hosts.get(vm.host);
    if (vm.hugepages === true && host && !host.hugepagesDeclared) {
      r.report(
        childPath(vm.path, "hugepages"),
        `VM ${vm.name} wants hugepages but host ${host.name} reserves none; add hugepages: { size: 1G, count: N } to hosts.${host.name} or set hugepages: false`,
      );
    }
    if (vm.pin === undefined) continue;
    const pinPath = childPath(vm.path, "pin");
    if (vm.cpus !== undefined && vm.pin.length !== vm.cpus) {
      r.report(pinPath, `${vm.pin.length} pins for ${vm.cpus} vCPUs; give one host CPU per vCPU`);
    }
    const labCpus = host?.access?.kind === "localLab" ? host.access.cpus : undefined;
    const own = new Set<number>();
    vm.pin.forEach((cpu, index) => {
      const path = indexPath(pinPath, index);
      if (own.has(cpu)) {
        r.report(path, `host CPU ${cpu} is pinned twice in VM ${vm.name}; give each vCPU its own host CPU`);
        return;
      }
      own.add(cpu);
      if (labCpus !== undefined && cpu >= labCpus) {
        r.report(
          path,
          `host ${vm.host} is a local-lab VM with ${labCpus} CPUs (0..${labCpus - 1}); pin to one of those or raise localLab.cpus`,
        );
        return;
      }
      if (vm.host === undefined) return;
      const key = `${vm.host}/${cpu}`;
      const holder = pinned.get(key);
      if (holder === undefined) pinned.set(key, vm.name);
      else
        r.report(
          path,
          `host CPU ${cpu} of ${vm.host} is already pinned to VM ${holder}; VMs on one host need distinct CPUs`,
        );
    });
  }
};
