/**
 * Every name used as a reference resolves, and a VM only uses switches, pipes and NICs of the host
 * it runs on (netmap ports are local to one kernel).
 */
import { childPath } from "../paths";
import { didYouMean } from "../suggest";
import { byName, known, type Rule } from "./lookup";

function unknownName(kind: string, name: string, names: Iterable<string>, section: string): string {
  const list = [...names];
  return `no ${kind} named "${name}"${didYouMean(name, list)}; declare it under ${section} or use one of: ${known(list)}`;
}

export const checkReferences: Rule = (t, r) => {
  const hosts = byName(t.hosts);
  const images = byName(t.images);
  const switches = byName(t.switches);
  const pipes = byName(t.pipes);
  const hostRef = (host: string | undefined, path: string): void => {
    if (host !== undefined && !hosts.has(host))
      r.report(path, unknownName("host", host, hosts.keys(), "hosts"));
  };

  for (const sw of t.switches) {
    hostRef(sw.host, childPath(sw.path, "host"));
    const host = sw.host === undefined ? undefined : hosts.get(sw.host);
    if (!host) continue;
    const nicNames = host.nics.map((nic) => nic.name);
    for (const uplink of sw.uplinks) {
      if (!nicNames.includes(uplink.nic)) {
        r.report(
          uplink.path,
          `host ${host.name} has no NIC named "${uplink.nic}"${didYouMean(uplink.nic, nicNames)}; declare it under hosts.${host.name}.nics or use one of: ${known(nicNames)}`,
        );
      }
    }
  }
  for (const pipe of t.pipes) hostRef(pipe.host, childPath(pipe.path, "host"));

  for (const vm of t.vms) {
    hostRef(vm.host, childPath(vm.path, "host"));
    if (vm.image !== undefined && !images.has(vm.image)) {
      r.report(childPath(vm.path, "image"), unknownName("image", vm.image, images.keys(), "images"));
    }
    const vmHost = vm.host === undefined ? undefined : hosts.get(vm.host);
    const elsewhere = (kind: string, name: string, owner: string): string =>
      `${kind} ${name} is on host ${owner} but VM ${vm.name} runs on ${vm.host}; netmap ports are local to one host: use a ${kind} on ${vm.host} or move the VM`;
    for (const nic of vm.nics) {
      if (nic.kind === "vale" && nic.switch !== undefined) {
        const sw = switches.get(nic.switch);
        const path = childPath(nic.path, "switch");
        if (!sw) {
          r.report(path, unknownName("switch", nic.switch, switches.keys(), "switches"));
          continue;
        }
        if (vmHost && sw.host !== undefined && sw.host !== vmHost.name)
          r.report(path, elsewhere("switch", sw.name, sw.host));
        const ports = sw.ports.map((port) => port.name);
        if (nic.port !== undefined && !ports.includes(nic.port)) {
          r.report(
            childPath(nic.path, "port"),
            `switch ${sw.name} has no port "${nic.port}"${didYouMean(nic.port, ports)}; declare it under switches.${sw.name}.ports (ports: { ${nic.port}: {} }) or use one of: ${known(ports)}`,
          );
        }
      } else if (nic.kind === "pipe" && nic.pipe !== undefined) {
        const pipe = pipes.get(nic.pipe);
        const path = childPath(nic.path, "pipe");
        if (!pipe) r.report(path, unknownName("pipe", nic.pipe, pipes.keys(), "pipes"));
        else if (vmHost && pipe.host !== undefined && pipe.host !== vmHost.name)
          r.report(path, elsewhere("pipe", pipe.name, pipe.host));
      } else if (nic.kind === "nic" && nic.nic !== undefined && vmHost) {
        const names = vmHost.nics.map((hostNic) => hostNic.name);
        if (names.includes(nic.nic)) continue;
        const owner = t.hosts.find((host) => host.nics.some((hostNic) => hostNic.name === nic.nic));
        const path = childPath(nic.path, "nic");
        if (owner) r.report(path, elsewhere("NIC", nic.nic, owner.name));
        else {
          r.report(
            path,
            `host ${vmHost.name} (where VM ${vm.name} runs) has no NIC named "${nic.nic}"${didYouMean(nic.nic, names)}; declare it under hosts.${vmHost.name}.nics or use one of: ${known(names)}`,
          );
        }
      }
    }
  }
};
