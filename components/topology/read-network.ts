/** Reads `switches` (VALE switches with their persistent ports and uplinks) and `pipes`. */
import type { DraftPipe, DraftPort, DraftSwitch, DraftUplink } from "./draft";
import { VALE_MAX_RINGS, VALE_MAX_SLOTS } from "./limits";
import { checkObjectName, checkPipeName, checkPortName, checkSwitchName } from "./names";
import { childPath } from "./paths";
import type { Reader } from "./reader";

function readPorts(r: Reader, node: unknown, path: string): DraftPort[] {
  return r.entries(node, path, "ports").map((entry) => {
    const problem = checkPortName(entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    // `vm1: {}` and `vm1:` both mean "netmap's default rings and slots".
    if (r.isEmpty(entry.node)) return { name: entry.name, path: entry.path };
    const fields = r.fields(entry.node, entry.path, { optional: ["rings", "slots"] }, `port ${entry.name}`);
    const rings = fields?.has("rings")
      ? r.integer(fields.get("rings"), childPath(entry.path, "rings"), "rings", 1, VALE_MAX_RINGS)
      : undefined;
    const slots = fields?.has("slots")
      ? r.integer(fields.get("slots"), childPath(entry.path, "slots"), "slots", 1, VALE_MAX_SLOTS)
      : undefined;
    return { name: entry.name, path: entry.path, rings, slots };
  });
}

function readUplinks(r: Reader, node: unknown, path: string): DraftUplink[] {
  const uplinks: DraftUplink[] = [];
  for (const item of r.list(node, path, "uplinks")) {
    const nic = r.string(item.node, item.path, "uplink (the name of a NIC under the host's nics)");
    if (nic !== undefined) uplinks.push({ nic, path: item.path });
  }
  return uplinks;
}

function readSwitch(r: Reader, name: string, node: unknown, path: string): DraftSwitch {
  const fields = r.fields(
    node,
    path,
    { required: ["host"], optional: ["ports", "uplinks", "hostStack"] },
    `switch ${name}`,
  );
  if (!fields) return { name, path, ports: [], uplinks: [], hostStack: false };
  const host = fields.has("host")
    ? r.string(fields.get("host"), childPath(path, "host"), "host name")
    : undefined;
  const ports = readPorts(r, fields.get("ports"), childPath(path, "ports"));
  const uplinks = readUplinks(r, fields.get("uplinks"), childPath(path, "uplinks"));
  const hostStack = fields.has("hostStack")
    ? r.boolean(fields.get("hostStack"), childPath(path, "hostStack"), "hostStack")
    : false;
  return { name, path, host, ports, uplinks, hostStack: hostStack ?? false };
}

export function readSwitches(r: Reader, node: unknown, path: string): DraftSwitch[] {
  return r.entries(node, path, "switches").map((entry) => {
    const problem = checkSwitchName(entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    return readSwitch(r, entry.name, entry.node, entry.path);
  });
}

export function readPipes(r: Reader, node: unknown, path: string): DraftPipe[] {
  return r.entries(node, path, "pipes").map((entry) => {
    const problem = checkPipeName(entry.name) ?? checkObjectName("pipe", entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    const fields = r.fields(entry.node, entry.path, { required: ["host"] }, `pipe ${entry.name}`);
    const host = fields?.has("host")
      ? r.string(fields.get("host"), childPath(entry.path, "host"), "host name")
      : undefined;
    return { name: entry.name, path: entry.path, host };
  });
}
