/**
 * Cross-checks over the whole draft, then (when nothing was reported) the final model with every
 * default applied and every MAC allocated.
 */
import type { DraftTopology, DraftVmNic } from "./draft";
import { allocateMacs } from "./macs";
import type { HostSpec, SwitchSpec, TopologyModel, VmNicSpec, VmSpec } from "./model";
import type { Reader } from "./reader";
import { API_VERSION } from "./read-topology";
import { checkCapacity } from "./rules/capacity";
import { checkExclusiveUse } from "./rules/exclusive-use";
import { checkExplicitMacs } from "./rules/explicit-macs";
import { checkHostNamespaces } from "./rules/host-namespace";
import type { Rule } from "./rules/lookup";
import { checkRecipeImages } from "./rules/recipe-images";
import { checkReferences } from "./rules/references";
import { checkTrust } from "./rules/trust";
import { checkVmPorts } from "./rules/vm-ports";
import { checkVmResources } from "./rules/vm-resources";

const RULES: readonly Rule[] = [
  checkReferences,
  checkHostNamespaces,
  checkExclusiveUse,
  checkCapacity,
  checkTrust,
  checkVmResources,
  checkVmPorts,
  checkExplicitMacs,
  checkRecipeImages,
];

export function validateDraft(draft: DraftTopology, r: Reader): void {
  for (const rule of RULES) rule(draft, r);
}

/** The reader reports every missing or invalid value, so an issue-free draft is complete. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal error: ${what} missing from an issue-free topology`);
  return value;
}

function vmNic(nic: DraftVmNic, mac: string, vm: string): VmNicSpec {
  const at = `${vm}.nics[${nic.index}]`;
  switch (nic.kind) {
    case "vale":
      return {
        kind: "vale",
        switch: need(nic.switch, `${at}.switch`),
        port: need(nic.port, `${at}.port`),
        mac,
      };
    case "pipe":
      return {
        kind: "pipe",
        pipe: need(nic.pipe, `${at}.pipe`),
        id: need(nic.id, `${at}.id`),
        end: need(nic.end, `${at}.end`),
        mac,
      };
    case "nic":
      return { kind: "nic", nic: need(nic.nic, `${at}.nic`), mac };
  }
}

/** Builds the model from a draft that produced no issues. */
export function buildModel(draft: DraftTopology, sourceFile: string): TopologyModel {
  const name = need(draft.name, "name");
  const netmap = need(draft.netmap, "netmap");
  const requests = draft.vms.flatMap((vm) =>
    vm.nics.map((nic) => ({ vm: vm.name, nicIndex: nic.index, explicit: nic.mac })),
  );
  const macs = allocateMacs(name, requests);
  let next = 0;
  const vms: VmSpec[] = draft.vms.map((vm) => ({
    name: vm.name,
    host: need(vm.host, `${vm.name}.host`),
    image: need(vm.image, `${vm.name}.image`),
    cpus: need(vm.cpus, `${vm.name}.cpus`),
    memoryMiB: need(vm.memoryMiB, `${vm.name}.memory`),
    ...(vm.pin === undefined ? {} : { pin: vm.pin }),
    hugepages: need(vm.hugepages, `${vm.name}.hugepages`),
    trust: need(vm.trust, `${vm.name}.trust`),
    nics: vm.nics.map((nic) => vmNic(nic, macs[next++], vm.name)),
  }));
  const hosts: HostSpec[] = draft.hosts.map((host) => ({
    name: host.name,
    access: need(host.access, `${host.name}.access`),
    managementInterface: need(host.managementInterface, `${host.name}.managementInterface`),
    nics: host.nics.map((nic) => ({
      name: nic.name,
      interface: need(nic.interface, `${nic.path}.interface`),
      driver: need(nic.driver, `${nic.path}.driver`),
    })),
    ...(host.hugepages === undefined ? {} : { hugepages: host.hugepages }),
  }));
  const switches: SwitchSpec[] = draft.switches.map((sw) => ({
    name: sw.name,
    host: need(sw.host, `${sw.name}.host`),
    ports: sw.ports.map((port) => ({
      name: port.name,
      ...(port.rings === undefined ? {} : { rings: port.rings }),
      ...(port.slots === undefined ? {} : { slots: port.slots }),
    })),
    uplinks: sw.uplinks.map((uplink) => uplink.nic),
    hostStack: sw.hostStack,
  }));
  return {
    apiVersion: API_VERSION,
    name,
    sourceFile,
    netmap: {
      source: need(netmap.source, "netmap.source"),
      drivers: netmap.drivers,
      driverVersions: netmap.driverVersions,
      params: netmap.params,
    },
    ...(draft.qemu === undefined ? {} : { qemu: draft.qemu }),
    images: draft.images.map((image) => need(image.spec, image.path)),
    hosts,
    switches,
    pipes: draft.pipes.map((pipe) => ({ name: pipe.name, host: need(pipe.host, `${pipe.name}.host`) })),
    vms,
  };
}
