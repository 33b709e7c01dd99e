/** Reads the whole document into a draft: top-level keys, apiVersion and name, then each section. */
import { isMap } from "yaml";
import type { DraftTopology } from "./draft";
import { checkTopologyName } from "./names";
import { childPath, ROOT_PATH } from "./paths";
import type { Reader } from "./reader";
import { readHosts } from "./read-hosts";
import { readPipes, readSwitches } from "./read-network";
import { readImages, readNetmap, readQemu } from "./read-settings";
import { readVms } from "./read-vms";

export const API_VERSION = "netmap-testbed/v1";

const REQUIRED = ["apiVersion", "name", "netmap", "hosts"] as const;
const OPTIONAL = ["qemu", "images", "switches", "pipes", "vms"] as const;

function checkApiVersion(value: string): string | undefined {
  if (value === API_VERSION) return undefined;
  return `apiVersion "${value}" is not supported; this version of netmap-testbed reads apiVersion: ${API_VERSION}`;
}

export function readTopology(r: Reader): DraftTopology | undefined {
  if (r.isEmpty(r.root)) {
    r.report(ROOT_PATH, `the file is empty; start it with apiVersion: ${API_VERSION} (see docs/topology.md)`);
    return undefined;
  }
  const fields = r.fields(r.root, ROOT_PATH, { required: REQUIRED, optional: OPTIONAL }, "the topology");
  if (!fields) return undefined;
  const at = (key: string): string => childPath(ROOT_PATH, key);
  if (fields.has("apiVersion"))
    r.text(fields.get("apiVersion"), at("apiVersion"), "apiVersion", checkApiVersion);
  const name = fields.has("name")
    ? r.text(fields.get("name"), at("name"), "name", checkTopologyName)
    : undefined;
  const netmap = fields.has("netmap") ? readNetmap(r, fields.get("netmap"), at("netmap")) : undefined;
  const qemu = fields.has("qemu") ? readQemu(r, fields.get("qemu"), at("qemu")) : undefined;
  const images = readImages(r, fields.get("images"), at("images"));
  const hosts = readHosts(r, fields.get("hosts"), at("hosts"));
  const hostsNode = fields.get("hosts");
  if (hosts.length === 0 && (r.isEmpty(hostsNode) || (isMap(hostsNode) && hostsNode.items.length === 0))) {
    r.reportKey(
      at("hosts"),
      `hosts is empty; declare at least one host (remote with address + hostKey, or localLab)`,
    );
  }
  const switches = readSwitches(r, fields.get("switches"), at("switches"));
  const pipes = readPipes(r, fields.get("pipes"), at("pipes"));
  const vms = readVms(r, fields.get("vms"), at("vms"));
  if (vms.length > 0 && !fields.has("qemu")) {
    r.reportAt(
      at("vms"),
      at("qemu"),
      `VMs need the ptnet QEMU: add qemu: { source: { git: https://github.com/netmap-unipi/qemu.git, ref: master } }`,
    );
  }
  return { name, netmap, qemu, images, hosts, switches, pipes, vms };
}
