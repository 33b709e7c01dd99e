/** `netmap-testbed plan`: the plan as a tree a person can check before anything touches a host. */
import type { SourceSpec } from "../topology/model";
import { knownGoodVersionsOf, isExternalDriver } from "./driver-versions";
import { shellQuoteArgv } from "./shell-quote";
import type { HostPlan, NetmapBuildPlan, TestbedPlan } from "./types";
import { vcpuPinMap } from "./vm";

interface TreeNode {
  readonly label: string;
  readonly children?: readonly TreeNode[];
}

const leaf = (label: string): TreeNode => ({ label });
const node = (label: string, children: readonly TreeNode[]): TreeNode => ({ label, children });

export function renderPlanTree(plan: TestbedPlan): string {
  const root = node(
    `testbed ${plan.name} (${plan.sourceFile})`,
    plan.hosts.map((host) => hostNode(host)),
  );
  return renderNode(root).join("\n") + "\n";
}

function renderNode(tree: TreeNode): string[] {
  const lines = [tree.label];
  const children = tree.children ?? [];
  children.forEach((child, index) => {
    const last = index === children.length - 1;
    const [first, ...rest] = renderNode(child);
    lines.push(`${last ? "└─ " : "├─ "}${first}`);
    for (const line of rest) lines.push(`${last ? "   " : "│  "}${line}`);
  });
  return lines;
}

function describeSource(source: SourceSpec): string {
  if (source.kind === "git") return `git ${source.git} @ ${source.ref}`;
  return source.kind === "path" ? `path ${source.path} (uploaded)` : `hostPath ${source.path}`;
}

function hostNode(host: HostPlan): TreeNode {
  const access = host.spec.access;
  const where =
    access.kind === "remote"
      ? `${access.user}@${access.address}:${access.port}`
      : `local lab VM, ${access.cpus} CPUs, ${access.memoryMiB} MiB, ${access.diskGiB} GiB disk`;
  const children: TreeNode[] = [];
  if (host.hugepages) children.push(leaf(`hugepages: ${host.hugepages.count} × ${host.hugepages.size}`));
  children.push(buildNode(host.netmapBuild), loadNode(host));
  if (host.qemuBuild) {
    children.push(
      node(`qemu build (config key ${host.qemuBuild.configKey})`, [
        leaf(`source: ${describeSource(host.qemuBuild.source)}`),
        leaf(`binary: ${host.qemuBuild.binary}`),
        leaf(
          `configure: ${shellQuoteArgv(host.qemuBuild.configureOptions)} --extra-cflags=-I<netmap source>/sys`,
        ),
      ]),
    );
  }
  if (host.images.length > 0) {
    children.push(
      node(
        "images",
        host.images.map((image) =>
          leaf(
            image.kind === "recipe"
              ? `${image.name} (${image.os}): built on this machine from the ${image.recipe} recipe, with its kernel, initrd and netmap`
              : `${image.name} (${image.os}): ${image.url} ${image.digest.algorithm} ${image.digest.hex}`,
          ),
        ),
      ),
    );
  }
  if (host.switches.length > 0) children.push(node("VALE switches", host.switches.map(switchNode)));
  if (host.pipes.length > 0) children.push(node("pipes", host.pipes.map(pipeNode)));
  if (host.vms.length > 0) children.push(node("VMs", host.vms.map(vmNode)));
  children.push(
    node(
      "steps (in order)",
      host.steps.map((step, index) =>
        leaf(
          `${index + 1}. ${step.id}: ${step.description}` +
            (step.dependsOn.length > 0 ? ` (after ${step.dependsOn.join(", ")})` : ""),
        ),
      ),
    ),
  );
  return node(`host ${host.name} (${where})`, children);
}

function buildNode(build: NetmapBuildPlan): TreeNode {
  const drivers = build.drivers.length > 0 ? build.drivers.join(", ") : "none";
  const versions = build.drivers.map((driver) => leaf(`${driver}: ${describeVersion(build, driver)}`));
  return node(`netmap build (config key ${build.configKey}; + kernel release + commit = build key)`, [
    leaf(`source: ${describeSource(build.source)}`),
    leaf(`drivers: ${drivers}`),
    ...(versions.length > 0 ? [node("driver versions", versions)] : []),
    leaf(
      `configure: ${shellQuoteArgv(build.configureOptions)} (+ --kernel-dir and --select-version per host)`,
    ),
  ]);
}

function describeVersion(build: NetmapBuildPlan, driver: string): string {
  const explicit = build.explicitDriverVersions[driver];
  if (explicit !== undefined) return `${explicit} (topology)`;
  if (!isExternalDriver(driver)) return "in-tree driver, patched from the kernel's sources";
  const rows = Object.entries(knownGoodVersionsOf(driver)).map(
    ([series, version]) => `${series}: ${version}`,
  );
  return rows.length > 0
    ? `known-good for the host's kernel series (${rows.join(", ")}); netmap's default on other series`
    : "netmap's default (no --select-version)";
}

function loadNode(host: HostPlan): TreeNode {
  const load = host.netmapLoad;
  const params = Object.keys(load.moduleParams)
    .sort()
    .map((name) => `${name}=${load.moduleParams[name]}`);
  const swaps = load.patchedNics.map(
    (nic) => `${nic.name} (${nic.interface}): stock ${nic.driver} → patched`,
  );
  return node("netmap load", [
    leaf(`module parameters: ${params.length > 0 ? params.join(" ") : "defaults"}`),
    ...(swaps.length > 0 ? [node("NIC driver swaps", swaps.map(leaf))] : [leaf("NIC driver swaps: none")]),
    leaf(`management interface ${load.managementInterface}: kept, its driver is never unloaded`),
  ]);
}

function switchNode(sw: HostPlan["switches"][number]): TreeNode {
  const ports = sw.ports.map((port) =>
    port.vm
      ? node(`port ${port.attachedName}`, [
          leaf(`VM ${port.vm}'s NIC: its QEMU creates the port as it starts, netmap removes it as it stops`),
        ])
      : node(`port ${port.attachedName}`, [
          leaf(`create: vale-ctl ${shellQuoteArgv(port.createArgs)}`),
          leaf(`attach: vale-ctl ${shellQuoteArgv(port.attachArgs)}`),
          leaf(
            `destroy: vale-ctl ${shellQuoteArgv(port.detachArgs)}; vale-ctl ${shellQuoteArgv(port.deleteArgs)}`,
          ),
        ]),
  );
  const uplinks = sw.uplinks.map((uplink) =>
    node(`uplink ${uplink.nic} (${uplink.interface})`, [
      leaf(`attach: vale-ctl ${shellQuoteArgv(uplink.attachArgs)}`),
      leaf(`destroy: vale-ctl ${shellQuoteArgv(uplink.detachArgs)}`),
    ]),
  );
  return node(`switch ${sw.name}`, [...ports, ...uplinks]);
}

function pipeNode(pipe: HostPlan["pipes"][number]): TreeNode {
  if (pipe.ends.length === 0) return leaf(`pipe ${pipe.name}: no ends used`);
  return node(
    `pipe ${pipe.name}`,
    pipe.ends.map((end) => leaf(`${end.portName} (${end.end}) → ${end.vm}`)),
  );
}

function vmNode(vm: HostPlan["vms"][number]): TreeNode {
  const pins = vcpuPinMap(vm).map((pin) => `vCPU${pin.vcpu}→CPU${pin.hostCpu}`);
  return node(`vm ${vm.name} (${vm.spec.trust}, image ${vm.image.name})`, [
    leaf(
      `${vm.spec.cpus} vCPU${vm.spec.cpus === 1 ? "" : "s"}, ${vm.spec.memoryMiB} MiB${vm.spec.hugepages ? " on hugepages" : ""}, pinning: ${
        pins.length > 0 ? pins.join(" ") : "none"
      }`,
    ),
    ...vm.nics.map((nic) => leaf(`${nic.netdevId}: ${nic.describe}, mac ${nic.mac}`)),
    leaf(`ssh: 127.0.0.1:${vm.sshForwardPort} → guest :22; unit ${vm.paths.unit}`),
    leaf(`qemu: ${shellQuoteArgv(vm.qemuArgs)}`),
  ]);
}
