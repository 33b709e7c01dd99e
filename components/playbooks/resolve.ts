/**
 * Endpoint → where pkt-gen runs and which netmap port it opens. Pure: works on the validated
 * topology model and its plan (VM SSH forward ports, port names), never on a host.
 */
import { pipePortName } from "../plan/pipes";
import type { TestbedPlan } from "../plan/types";
import { valePortName } from "../plan/vale";
import { didYouMean } from "../topology/suggest";
import type { TopologyModel, VmSpec } from "../topology/model";
import type { EndpointSpec } from "./model";

/** The machine pkt-gen runs on: a host of the topology, or a VM reached through its host. */
export type MachineRef =
  | { readonly kind: "host"; readonly host: string }
  | {
      readonly kind: "vm";
      readonly vm: string;
      /** The VM's host, whose SSH connection carries the jump to the guest. */
      readonly host: string;
      /** Port on the host's 127.0.0.1 forwarded to the guest's sshd. */
      readonly sshForwardPort: number;
    };

/** The pkt-gen `-i` argument, or the guest NIC's MAC when the interface is looked up in the guest. */
export type PortRef =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "guestMac"; readonly mac: string };

/** What the endpoint is plugged into; used to check that sender and receiver can reach each other. */
export type Attachment =
  | { readonly kind: "vale"; readonly switch: string }
  | { readonly kind: "pipe"; readonly pipe: string; readonly id: number; readonly end: "master" | "slave" }
  | { readonly kind: "nic"; readonly host: string; readonly nic: string };

/**
 * A persistent VALE port that pkt-gen cannot open in place: netmap renames a persistent port a
 * program registers (`netmap_update_config` copies the interface's name over "SWITCH:PORT"), after
 * which it can be neither detached nor deleted until the host reboots. The runner removes it for
 * the measurement, pkt-gen opens an ephemeral port of the same name and geometry
 * (`SWITCH:PORT@conf:rings=R,slots=S`, which netmap removes when pkt-gen exits), and the runner
 * puts the persistent port back afterwards, as `vale-port.sh apply` made it.
 */
export interface LentPort {
  readonly host: string;
  readonly switch: string;
  readonly port: string;
  readonly rings?: number;
  readonly slots?: number;
}

export interface ResolvedEndpoint {
  readonly spec: EndpointSpec;
  readonly machine: MachineRef;
  readonly port: PortRef;
  /** A persistent port the runner lends to pkt-gen for the measurement (LentPort). */
  readonly lend?: LentPort;
  readonly attachment: Attachment;
  /** Physical host NICs whose flow control and offloads the tuning changes (the NIC on the path). */
  readonly hostInterfaces: readonly { readonly host: string; readonly interface: string }[];
  /** Human description, e.g. "VM vm-nic NIC 0 (passthrough of h1 p0)". */
  readonly describe: string;
}

/** Stable key of the machine, e.g. "host:h1" or "vm:vm1". */
export function machineKey(machine: MachineRef): string {
  return machine.kind === "host" ? `host:${machine.host}` : `vm:${machine.vm}`;
}

function unknown(kind: string, name: string, known: readonly string[]): string {
  const list = known.length > 0 ? `; the topology has ${known.join(", ")}` : `; the topology has none`;
  return `${kind} "${name}" is not in the topology${didYouMean(name, known)}${list}`;
}

function vmUsing(topology: TopologyModel, match: (vm: VmSpec, index: number) => boolean): string | undefined {
  for (const vm of topology.vms) {
    if (vm.nics.some((_, index) => match(vm, index))) return vm.name;
  }
  return undefined;
}

function resolveVm(topology: TopologyModel, plan: TestbedPlan, ep: Extract<EndpointSpec, { kind: "vm" }>) {
  const vm = topology.vms.find((candidate) => candidate.name === ep.vm);
  if (!vm)
    return unknown(
      "VM",
      ep.vm,
      topology.vms.map((v) => v.name),
    );
  const nic = vm.nics[ep.nic];
  if (!nic) {
    return `VM ${vm.name} has ${vm.nics.length} NIC(s) (index 0 to ${vm.nics.length - 1}), not NIC ${ep.nic}`;
  }
  const vmPlan = plan.hosts.flatMap((host) => host.vms).find((candidate) => candidate.name === vm.name);
  if (!vmPlan) return `VM ${vm.name} is missing from the plan (internal error)`;
  const host = topology.hosts.find((candidate) => candidate.name === vm.host);
  const machine: MachineRef = {
    kind: "vm",
    vm: vm.name,
    host: vm.host,
    sshForwardPort: vmPlan.sshForwardPort,
  };
  const port: PortRef =
    ep.interface !== undefined
      ? { kind: "name", name: `netmap:${ep.interface}` }
      : { kind: "guestMac", mac: nic.mac };
  const base = { spec: ep, machine, port };
  switch (nic.kind) {
    case "vale":
      return {
        ...base,
        attachment: { kind: "vale", switch: nic.switch },
        hostInterfaces: [],
        describe: `VM ${vm.name} NIC ${ep.nic} (${valePortName(nic.switch, nic.port)})`,
      } satisfies ResolvedEndpoint;
    case "pipe":
      return {
        ...base,
        attachment: { kind: "pipe", pipe: nic.pipe, id: nic.id, end: nic.end },
        hostInterfaces: [],
        describe: `VM ${vm.name} NIC ${ep.nic} (${pipePortName(nic.pipe, nic.id, nic.end)})`,
      } satisfies ResolvedEndpoint;
    case "nic": {
      const hostNic = host?.nics.find((candidate) => candidate.name === nic.nic);
      return {
        ...base,
        attachment: { kind: "nic", host: vm.host, nic: nic.nic },
        hostInterfaces: hostNic ? [{ host: vm.host, interface: hostNic.interface }] : [],
        describe: `VM ${vm.name} NIC ${ep.nic} (passthrough of ${vm.host} ${nic.nic})`,
      } satisfies ResolvedEndpoint;
    }
  }
}

function resolveVale(topology: TopologyModel, ep: Extract<EndpointSpec, { kind: "vale" }>) {
  const sw = topology.switches.find((candidate) => candidate.name === ep.switch);
  if (!sw)
    return unknown(
      "VALE switch",
      ep.switch,
      topology.switches.map((s) => s.name),
    );
  const name = valePortName(ep.switch, ep.port);
  const owner = vmUsing(topology, (vm, i) => {
    const nic = vm.nics[i];
    return nic.kind === "vale" && nic.switch === ep.switch && nic.port === ep.port;
  });
  if (owner !== undefined) {
    return `${name} is the port of VM ${owner} (its QEMU holds it); measure inside the VM with { vm: ${owner}, nic: … } or use another port`;
  }
  const host = topology.hosts.find((candidate) => candidate.name === sw.host);
  if (host?.nics.some((nic) => nic.interface === ep.port)) {
    return `${name} names a NIC of host ${sw.host}, not a VALE port; use { host: ${sw.host}, nic: … } for the NIC`;
  }
  const persistent = sw.ports.find((port) => port.name === ep.port);
  const geometry = persistent
    ? [
        ...(persistent.rings !== undefined ? [`rings=${persistent.rings}`] : []),
        ...(persistent.slots !== undefined ? [`slots=${persistent.slots}`] : []),
      ]
    : [];
  return {
    spec: ep,
    machine: { kind: "host", host: sw.host },
    port: { kind: "name", name: geometry.length > 0 ? `${name}@conf:${geometry.join(",")}` : name },
    ...(persistent
      ? {
          lend: {
            host: sw.host,
            switch: sw.name,
            port: persistent.name,
            ...(persistent.rings !== undefined ? { rings: persistent.rings } : {}),
            ...(persistent.slots !== undefined ? { slots: persistent.slots } : {}),
          },
        }
      : {}),
    attachment: { kind: "vale", switch: sw.name },
    hostInterfaces: [],
    describe: `${name} on ${sw.host}${persistent ? "" : " (ephemeral port)"}`,
  } satisfies ResolvedEndpoint;
}

function resolvePipe(topology: TopologyModel, ep: Extract<EndpointSpec, { kind: "pipe" }>) {
  const pipe = topology.pipes.find((candidate) => candidate.name === ep.pipe);
  if (!pipe)
    return unknown(
      "pipe",
      ep.pipe,
      topology.pipes.map((p) => p.name),
    );
  const name = pipePortName(ep.pipe, ep.id, ep.end);
  const owner = vmUsing(topology, (vm, i) => {
    const nic = vm.nics[i];
    return nic.kind === "pipe" && nic.pipe === ep.pipe && nic.id === ep.id && nic.end === ep.end;
  });
  if (owner !== undefined) {
    return `${name} is held by VM ${owner}; measure inside the VM with { vm: ${owner}, nic: … } or use another pipe id`;
  }
  return {
    spec: ep,
    machine: { kind: "host", host: pipe.host },
    port: { kind: "name", name },
    attachment: { kind: "pipe", pipe: pipe.name, id: ep.id, end: ep.end },
    hostInterfaces: [],
    describe: `${name} on ${pipe.host}`,
  } satisfies ResolvedEndpoint;
}

function resolveHostNic(topology: TopologyModel, ep: Extract<EndpointSpec, { kind: "hostNic" }>) {
  const host = topology.hosts.find((candidate) => candidate.name === ep.host);
  if (!host)
    return unknown(
      "host",
      ep.host,
      topology.hosts.map((h) => h.name),
    );
  const nic = host.nics.find((candidate) => candidate.name === ep.nic);
  if (!nic)
    return unknown(
      `NIC of host ${host.name}`,
      ep.nic,
      host.nics.map((n) => n.name),
    );
  const owner = vmUsing(topology, (vm, i) => {
    const vmNic = vm.nics[i];
    return vm.host === host.name && vmNic.kind === "nic" && vmNic.nic === nic.name;
  });
  if (owner !== undefined) {
    return `${host.name} ${nic.name} is passed through to VM ${owner}; measure inside the VM with { vm: ${owner}, nic: … }`;
  }
  const uplinkOf = topology.switches.find((sw) => sw.host === host.name && sw.uplinks.includes(nic.name));
  if (uplinkOf) {
    return `${host.name} ${nic.name} is an uplink of VALE switch ${uplinkOf.name}, which holds it in netmap mode; measure through a port of ${uplinkOf.name} instead`;
  }
  return {
    spec: ep,
    machine: { kind: "host", host: host.name },
    port: { kind: "name", name: `netmap:${nic.interface}` },
    attachment: { kind: "nic", host: host.name, nic: nic.name },
    hostInterfaces: [{ host: host.name, interface: nic.interface }],
    describe: `${host.name} ${nic.name} (${nic.interface})`,
  } satisfies ResolvedEndpoint;
}

/** Resolves an endpoint, or returns what is wrong with it (and what to do). */
export function resolveEndpoint(
  topology: TopologyModel,
  plan: TestbedPlan,
  ep: EndpointSpec,
): ResolvedEndpoint | string {
  switch (ep.kind) {
    case "vm":
      return resolveVm(topology, plan, ep);
    case "vale":
      return resolveVale(topology, ep);
    case "pipe":
      return resolvePipe(topology, ep);
    case "hostNic":
      return resolveHostNic(topology, ep);
  }
}

function same(a: Attachment, b: Attachment): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Can traffic from `sender` reach `receiver`? VALE ports must share a switch, pipe ends must be the
 * two ends of one pipe id; NICs are linked by cables the topology does not describe, so any two
 * distinct NICs are accepted. Returns what is wrong, or undefined.
 */
export function checkPath(sender: ResolvedEndpoint, receiver: ResolvedEndpoint): string | undefined {
  const a = sender.attachment;
  const b = receiver.attachment;
  if (same(a, b) && a.kind !== "vale") {
    return `sender and receiver are the same port (${sender.describe}); pick two ends of a path`;
  }
  if (a.kind === "vale" || b.kind === "vale") {
    if (a.kind === "vale" && b.kind === "vale") {
      if (a.switch === b.switch) {
        if (JSON.stringify(sender.spec) === JSON.stringify(receiver.spec)) {
          return `sender and receiver are the same port (${sender.describe}); pick two ports of the switch`;
        }
        return undefined;
      }
      return `sender is on VALE switch ${a.switch} but receiver is on ${b.switch}; VALE switches are not connected to each other`;
    }
    return `${sender.describe} and ${receiver.describe} are not connected: one is on a VALE switch, the other is not`;
  }
  if (a.kind === "pipe" || b.kind === "pipe") {
    if (a.kind === "pipe" && b.kind === "pipe" && a.pipe === b.pipe && a.id === b.id && a.end !== b.end) {
      return undefined;
    }
    return `${sender.describe} and ${receiver.describe} are not connected: a pipe's traffic goes only to the other end of the same pipe id`;
  }
  return undefined;
}
