/**
 * The steps on one host and their order. A step lists what must exist before it is created;
 * destroy walks the same graph backwards (VMs stop before ports go, netmap unloads last).
 */
import type { HostSpec, VmSpec } from "../topology/model";
import type { PlanStep, PlanStepKind, SwitchPlan, PipePlan } from "./types";

export interface HostStepsInput {
  readonly host: HostSpec;
  readonly switches: readonly SwitchPlan[];
  readonly pipes: readonly PipePlan[];
  readonly vms: readonly VmSpec[];
  /** Names of the images the host's VMs use, first use first. */
  readonly images: readonly string[];
}

export const stepId = {
  image: (image: string) => `image:${image}`,
  valePort: (switchName: string, port: string) => `vale-port:${switchName}:${port}`,
  valeUplink: (switchName: string, nic: string) => `vale-uplink:${switchName}:${nic}`,
  pipe: (pipe: string) => `pipe:${pipe}`,
  vm: (vm: string) => `vm:${vm}`,
};

export function planHostSteps(input: HostStepsInput): PlanStep[] {
  const steps: PlanStep[] = [];
  const add = (id: string, kind: PlanStepKind, description: string, dependsOn: readonly string[]) =>
    steps.push({ id, kind, description, dependsOn: [...dependsOn] });

  add("scripts", "scripts", "upload the host scripts", []);
  if (input.host.hugepages) {
    const { size, count } = input.host.hugepages;
    add("hugepages", "hugepages", `reserve ${count} × ${size} hugepages and mount hugetlbfs`, ["scripts"]);
  }
  add("netmap-prepare", "netmap-prepare", "detect kernel, install build dependencies and headers", [
    "scripts",
  ]);
  add("netmap-fetch", "netmap-fetch", "fetch netmap sources, record the commit", ["netmap-prepare"]);
  add("netmap-build", "netmap-build", "configure and build netmap and the patched drivers", ["netmap-fetch"]);
  add("netmap-install", "netmap-install", "install modules (depmod override) and tools", ["netmap-build"]);
  add("netmap-load", "netmap-load", "swap test NIC drivers, load netmap with its parameters", [
    "netmap-install",
  ]);
  add("netmap-persist", "netmap-persist", "load netmap and the patched drivers at boot", ["netmap-load"]);

  if (input.vms.length > 0) {
    // configure needs netmap's headers (--extra-cflags=-I<netmap>/sys), nothing built from them.
    add("qemu-build", "qemu-build", "build the ptnet QEMU", ["netmap-fetch"]);
  }
  for (const image of input.images) {
    add(stepId.image(image), "image", `download and verify image ${image}`, ["scripts"]);
  }
  for (const sw of input.switches) {
    // A VM's port is made by its QEMU as the VM starts: no step of its own.
    for (const port of sw.ports.filter((candidate) => candidate.vm === undefined)) {
      add(stepId.valePort(sw.name, port.name), "vale-port", `create ${port.attachedName}`, ["netmap-load"]);
    }
    for (const uplink of sw.uplinks) {
      add(stepId.valeUplink(sw.name, uplink.nic), "vale-uplink", `attach ${uplink.interface} to ${sw.name}`, [
        "netmap-load",
      ]);
    }
  }
  for (const pipe of input.pipes) {
    add(stepId.pipe(pipe.name), "pipe", `reserve the ends of pipe ${pipe.name}`, ["netmap-load"]);
  }
  for (const vm of input.vms) {
    const dependsOn = new Set(["qemu-build", stepId.image(vm.image), "netmap-load"]);
    if (vm.hugepages && input.host.hugepages) dependsOn.add("hugepages");
    for (const nic of vm.nics) {
      if (nic.kind === "pipe") dependsOn.add(stepId.pipe(nic.pipe));
    }
    add(stepId.vm(vm.name), "vm", `boot ${vm.name}`, [...dependsOn]);
  }
  return topologicalOrder(steps);
}

/**
 * Kahn's algorithm, taking ready steps in their original order so the result is deterministic
 * and close to the order steps were listed. Throws on an unknown dependency or a cycle.
 */
export function topologicalOrder(steps: readonly PlanStep[]): PlanStep[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  if (byId.size !== steps.length) throw new Error("plan steps: duplicate step ids");
  for (const step of steps) {
    for (const dep of step.dependsOn) {
      if (!byId.has(dep)) throw new Error(`plan step ${step.id} depends on unknown step ${dep}`);
    }
  }
  const done = new Set<string>();
  const ordered: PlanStep[] = [];
  while (ordered.length < steps.length) {
    const next = steps.find((step) => !done.has(step.id) && step.dependsOn.every((dep) => done.has(dep)));
    if (!next) {
      const stuck = steps.filter((step) => !done.has(step.id)).map((step) => step.id);
      throw new Error(`plan steps form a cycle among: ${stuck.join(", ")}`);
    }
    done.add(next.id);
    ordered.push(next);
  }
  return ordered;
}
