/** Reads `vms`: size, placement, trust and the NICs (VALE port, pipe end or host NIC) of each VM. */
import { isMap, isPair } from "yaml";
import type { DraftVm, DraftVmNic } from "./draft";
import { PIPE_ID_MAX, VM_MAX_CPUS, VM_MAX_MEMORY_MIB, VM_MIN_MEMORY_MIB } from "./limits";
import { checkMac, normalizeMac } from "./macs";
import { checkObjectName } from "./names";
import { childPath } from "./paths";
import type { Reader } from "./reader";
import { readMiB } from "./read-size";
import { keyText } from "./yaml-source";

const NIC_KINDS = ["switch", "pipe", "nic"] as const;
const NIC_FORMS =
  "switch: + port: (a VALE port), pipe: + id: + end: (a pipe end) or nic: (a NIC of the host)";

function presentKinds(node: unknown): string[] {
  if (!isMap(node)) return [];
  const keys = node.items.filter(isPair).map((pair) => keyText(pair.key));
  return NIC_KINDS.filter((kind) => keys.includes(kind));
}

function readVmNic(r: Reader, node: unknown, path: string, index: number): DraftVmNic | undefined {
  const kinds = presentKinds(node);
  if (kinds.length > 1) {
    r.fields(node, path, { optional: [...NIC_KINDS, "port", "id", "end", "mac"] }, "VM NIC"); // records key positions
    r.reportKey(
      childPath(path, kinds[1]),
      `a VM NIC is exactly one of ${NIC_FORMS}; split this item into one per NIC`,
    );
    return undefined;
  }
  const kind = kinds[0];
  const spec =
    kind === "switch"
      ? { required: ["switch", "port"], optional: ["mac"] }
      : kind === "pipe"
        ? { required: ["pipe", "id", "end"], optional: ["mac"] }
        : { required: ["nic"], optional: ["mac"] };
  if (kind === undefined && isMap(node)) {
    r.report(path, `a VM NIC needs one of ${NIC_FORMS}`);
    return undefined;
  }
  const fields = r.fields(node, path, spec, "VM NIC");
  if (!fields) return undefined;
  const at = (key: string): string => childPath(path, key);
  const macText = fields.has("mac") ? r.string(fields.get("mac"), at("mac"), "mac", checkMac) : undefined;
  const common = { path, index, mac: macText === undefined ? undefined : normalizeMac(macText) };
  if (kind === "switch") {
    const sw = r.string(fields.get("switch"), at("switch"), "switch name");
    const port = fields.has("port") ? r.text(fields.get("port"), at("port"), "port name") : undefined;
    return { ...common, kind: "vale", switch: sw, port };
  }
  if (kind === "pipe") {
    const pipe = r.string(fields.get("pipe"), at("pipe"), "pipe name");
    const id = fields.has("id")
      ? r.integer(fields.get("id"), at("id"), "pipe id", 0, PIPE_ID_MAX)
      : undefined;
    const end = fields.has("end")
      ? r.oneOf(fields.get("end"), at("end"), "end", ["master", "slave"] as const)
      : undefined;
    return { ...common, kind: "pipe", pipe, id, end };
  }
  return { ...common, kind: "nic", nic: r.string(fields.get("nic"), at("nic"), "NIC name") };
}

function readPin(r: Reader, node: unknown, path: string): number[] | undefined {
  const pins: number[] = [];
  let valid = true;
  for (const item of r.list(node, path, "pin")) {
    const cpu = r.integer(item.node, item.path, "pinned host CPU", 0, 4095);
    if (cpu === undefined) valid = false;
    else pins.push(cpu);
  }
  return valid ? pins : undefined;
}

function readVm(r: Reader, name: string, node: unknown, path: string): DraftVm {
  const fields = r.fields(
    node,
    path,
    { required: ["host", "image", "cpus", "memory"], optional: ["pin", "hugepages", "trust", "nics"] },
    `VM ${name}`,
  );
  if (!fields) return { name, path, hugepages: false, trust: "untrusted", nics: [] };
  const at = (key: string): string => childPath(path, key);
  const host = fields.has("host") ? r.string(fields.get("host"), at("host"), "host name") : undefined;
  const image = fields.has("image") ? r.string(fields.get("image"), at("image"), "image name") : undefined;
  const cpus = fields.has("cpus")
    ? r.integer(fields.get("cpus"), at("cpus"), "cpus", 1, VM_MAX_CPUS)
    : undefined;
  const memoryMiB = fields.has("memory")
    ? readMiB(r, fields.get("memory"), at("memory"), "memory", VM_MIN_MEMORY_MIB, VM_MAX_MEMORY_MIB)
    : undefined;
  const pin = fields.has("pin") ? readPin(r, fields.get("pin"), at("pin")) : undefined;
  const hugepages = fields.has("hugepages")
    ? r.boolean(fields.get("hugepages"), at("hugepages"), "hugepages")
    : false;
  const trust = fields.has("trust")
    ? r.oneOf(fields.get("trust"), at("trust"), "trust", ["untrusted", "trusted"] as const)
    : "untrusted";
  const nics: DraftVmNic[] = [];
  r.list(fields.get("nics"), at("nics"), "nics").forEach((item, index) => {
    const nic = readVmNic(r, item.node, item.path, index);
    if (nic) nics.push(nic);
  });
  return {
    name,
    path,
    host,
    image,
    cpus,
    memoryMiB,
    pin,
    hugepages,
    trust,
    nics,
  };
}

export function readVms(r: Reader, node: unknown, path: string): DraftVm[] {
  return r.entries(node, path, "vms").map((entry) => {
    const problem = checkObjectName("VM", entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    return readVm(r, entry.name, entry.node, entry.path);
  });
}
