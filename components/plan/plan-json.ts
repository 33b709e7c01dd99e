/** `netmap-testbed plan --json`: the plan as one JSON object (hosts and VMs as arrays, argv exact). */
import type { TestbedPlan } from "./types";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface VmJson {
  readonly name: string;
  readonly qemuArgs: string[];
  readonly [key: string]: JsonValue;
}

export interface HostJson {
  readonly name: string;
  readonly vms: VmJson[];
  readonly [key: string]: JsonValue;
}

export interface PlanJson {
  readonly name: string;
  readonly sourceFile: string;
  readonly hosts: HostJson[];
}

export function planToJson(plan: TestbedPlan): PlanJson {
  return {
    name: plan.name,
    sourceFile: plan.sourceFile,
    hosts: plan.hosts.map((host) => ({
      name: host.name,
      access: toJson(host.spec.access),
      managementInterface: host.spec.managementInterface,
      nics: toJson(host.spec.nics),
      hugepages: toJson(host.hugepages ?? null),
      netmapBuild: toJson(host.netmapBuild),
      netmapLoad: toJson(host.netmapLoad),
      qemuBuild: toJson(host.qemuBuild ?? null),
      images: toJson(host.images),
      switches: toJson(host.switches),
      pipes: toJson(host.pipes),
      vms: host.vms.map((vm) => ({
        name: vm.name,
        image: vm.image.name,
        cpus: vm.spec.cpus,
        memoryMiB: vm.spec.memoryMiB,
        pin: toJson(vm.spec.pin ?? null),
        hugepages: vm.spec.hugepages,
        trust: vm.spec.trust,
        nics: toJson(vm.nics),
        sshForwardPort: vm.sshForwardPort,
        paths: toJson(vm.paths),
        qemuArgs: [...vm.qemuArgs],
      })),
      steps: toJson(host.steps),
    })),
  };
}

/** Plan objects are plain data already; a JSON round trip detaches them and drops undefined members. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
