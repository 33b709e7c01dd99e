/** Host resources given to VMs: pinned CPUs, hugepages and a local-lab host's memory. */
import type { DraftTopology } from "../draft";
import { childPath, indexPath } from "../paths";
import type { Reader } from "../reader";
import { byName, type Rule } from "./lookup";

/** What a local-lab host keeps for itself (kernel, sshd, QEMU's own overhead per VM aside). */
const LAB_HOST_RESERVED_MIB = 512;

const gib = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`);

/**
 * Hugepage-backed VMs take their whole memory from the host's reserved pages, in whole pages:
 * QEMU fails on the host when the pages run out or the size is not a multiple of the page.
 */
function checkHugepageMemory(t: DraftTopology, r: Reader): void {
  for (const host of t.hosts) {
    if (host.hugepages === undefined) continue;
    const pageMiB = host.hugepages.size === "1G" ? 1024 : 2;
    const reserved = pageMiB * host.hugepages.count;
    let used = 0;
    const users: string[] = [];
    for (const vm of t.vms) {
      if (vm.host !== host.name || vm.hugepages !== true || vm.memoryMiB === undefined) continue;
      const at = childPath(vm.path, "memory");
      if (vm.memoryMiB % pageMiB !== 0) {
        r.report(
          at,
          `VM ${vm.name} has ${gib(vm.memoryMiB)} of memory on ${host.hugepages.size} hugepages of host ${host.name}; make it a multiple of ${host.hugepages.size}`,
        );
        continue;
      }
      used += vm.memoryMiB;
      users.push(`${vm.name} ${gib(vm.memoryMiB)}`);
      if (used > reserved) {
        const pagesNeeded = Math.ceil(used / pageMiB);
        r.report(
          at,
          `host ${host.name} reserves ${gib(reserved)} of hugepages (${host.hugepages.count} x ${host.hugepages.size}) but its hugepage VMs need ${gib(used)} (${users.join(", ")}): ${gib(used - reserved)} short; raise hosts.${host.name}.hugepages.count to ${pagesNeeded}, or set hugepages: false on VM ${vm.name}`,
        );
      }
    }
  }
}

/** A local-lab host's memory is declared: its VMs must fit in it, beside the host's own needs. */
function checkLabMemory(t: DraftTopology, r: Reader): void {
  for (const host of t.hosts) {
    if (host.access?.kind !== "localLab") continue;
    const available = host.access.memoryMiB - LAB_HOST_RESERVED_MIB;
    let used = 0;
    for (const vm of t.vms) {
      if (vm.host !== host.name || vm.memoryMiB === undefined) continue;
      used += vm.memoryMiB;
      if (used > available) {
        r.report(
          childPath(vm.path, "memory"),
          `host ${host.name} is a local-lab VM with ${gib(host.access.memoryMiB)}; with VM ${vm.name} its VMs need ${gib(used)} plus ${gib(LAB_HOST_RESERVED_MIB)} for the host itself; raise hosts.${host.name}.localLab.memory to at least ${gib(used + LAB_HOST_RESERVED_MIB)} or give the VMs less memory`,
        );
        break;
      }
    }
  }
}

export const checkVmResources: Rule = (t, r) => {
  checkHugepageMemory(t, r);
  checkLabMemory(t, r);
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
