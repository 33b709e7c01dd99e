/** Model → plan: one HostPlan per host, in file order. Pure; the model is assumed validated. */
import type { HostSpec, ImageSpec, NetmapSettings, TopologyModel } from "../topology/model";
import { planNetmapBuild } from "./netmap-build";
import { planPipe } from "./pipes";
import { planQemuBuild } from "./qemu-build";
import { planHostSteps } from "./steps";
import type { HostPlan, NetmapBuildPlan, NetmapLoadPlan, TestbedPlan } from "./types";
import { planSwitch } from "./vale";
import { planVm } from "./vm";

export function planTestbed(model: TopologyModel): TestbedPlan {
  // Every host builds the same netmap configuration; its kernel makes the final key differ.
  const netmapBuild = planNetmapBuild(model.netmap);
  return {
    name: model.name,
    sourceFile: model.sourceFile,
    hosts: model.hosts.map((host) => planHost(model, host, netmapBuild)),
  };
}

/** Only test NICs whose driver netmap patches have their driver swapped; the others stay untouched. */
export function planNetmapLoad(netmap: NetmapSettings, host: HostSpec): NetmapLoadPlan {
  const patchedNics = host.nics.filter((nic) => netmap.drivers.includes(nic.driver));
  return {
    moduleParams: { ...netmap.params },
    patchedNics,
    patchedDrivers: [...new Set(patchedNics.map((nic) => nic.driver))].sort(),
    managementInterface: host.managementInterface,
  };
}

function planHost(model: TopologyModel, host: HostSpec, netmapBuild: NetmapBuildPlan): HostPlan {
  const switches = model.switches.filter((sw) => sw.host === host.name);
  const pipes = model.pipes.filter((pipe) => pipe.host === host.name);
  const vms = model.vms.filter((vm) => vm.host === host.name);

  const images: ImageSpec[] = [];
  for (const vm of vms) {
    if (images.some((image) => image.name === vm.image)) continue;
    images.push(findImage(model, vm.image));
  }

  let qemuBuild: HostPlan["qemuBuild"];
  if (vms.length > 0) {
    if (!model.qemu) throw new Error(`host ${host.name} runs VMs but the topology has no qemu settings`);
    qemuBuild = planQemuBuild(model.qemu.source, model.netmap.source, model.qemu.installBuildDeps ?? true);
  }

  const switchPlans = switches.map((sw) => planSwitch(sw, host.nics, vms));
  const pipePlans = pipes.map((pipe) => planPipe(pipe, vms));
  const vmPlans = vms.map((vm, indexOnHost) =>
    planVm({
      spec: vm,
      image: findImage(model, vm.image),
      indexOnHost,
      hostNics: host.nics,
      hugepages: host.hugepages,
      qemuBinary: qemuBuild ? qemuBuild.binary : "",
    }),
  );

  return {
    name: host.name,
    spec: host,
    ...(host.hugepages ? { hugepages: host.hugepages } : {}),
    netmapBuild,
    netmapLoad: planNetmapLoad(model.netmap, host),
    ...(qemuBuild ? { qemuBuild } : {}),
    images,
    switches: switchPlans,
    pipes: pipePlans,
    vms: vmPlans,
    steps: planHostSteps({
      host,
      switches: switchPlans,
      pipes: pipePlans,
      vms,
      images: images.map((image) => image.name),
    }),
  };
}

function findImage(model: TopologyModel, name: string): ImageSpec {
  const image = model.images.find((candidate) => candidate.name === name);
  if (!image) throw new Error(`image ${name} is not defined (validate first)`);
  return image;
}
