/** Reads `hosts`: how each host is reached (remote over SSH, or a local-lab VM), its NICs and hugepages. */
import type { DraftHost, DraftHostNic } from "./draft";
import { checkHostKey } from "./host-key";
import {
  HUGEPAGES_MAX_COUNT,
  LAB_MAX_CPUS,
  LAB_MAX_DISK_GIB,
  LAB_MIN_DISK_GIB,
  LAB_MIN_MEMORY_MIB,
  VM_MAX_MEMORY_MIB,
} from "./limits";
import type { HugepagesSpec, LocalLabAccess, RemoteAccess } from "./model";
import { checkDriverName, checkInterfaceName, checkObjectName } from "./names";
import { checkAddress, checkUser } from "./network";
import { childPath } from "./paths";
import type { Reader } from "./reader";
import { readMiB } from "./read-size";

const REMOTE_KEYS = ["address", "hostKey", "port", "user"] as const;
const BOTH_OPTIONS =
  "either address + hostKey (a remote host reached over SSH) or localLab (a VM of the local lab)";

export const LAB_DEFAULTS = { cpus: 2, memoryMiB: 4096, diskGiB: 8 } as const;

function readRemote(
  r: Reader,
  name: string,
  fields: Map<string, unknown>,
  path: string,
): RemoteAccess | undefined {
  for (const key of ["address", "hostKey"] as const) {
    if (!fields.has(key)) {
      const how =
        key === "hostKey"
          ? " (the line printed by `ssh-keyscan -t ed25519 HOST`, without the host name)"
          : "";
      r.reportAt(
        path,
        childPath(path, key),
        `remote host ${name} needs ${key}${how}; or use localLab for a local-lab VM`,
      );
    }
  }
  const address = fields.has("address")
    ? r.string(fields.get("address"), childPath(path, "address"), "address", checkAddress)
    : undefined;
  const hostKey = fields.has("hostKey")
    ? r.string(fields.get("hostKey"), childPath(path, "hostKey"), "hostKey", checkHostKey)
    : undefined;
  const port = fields.has("port")
    ? r.integer(fields.get("port"), childPath(path, "port"), "port", 1, 65535)
    : 22;
  const user = fields.has("user")
    ? r.string(fields.get("user"), childPath(path, "user"), "user", checkUser)
    : "root";
  if (address === undefined || hostKey === undefined || port === undefined || user === undefined)
    return undefined;
  return { kind: "remote", address, port, user, hostKey: hostKey.trim() };
}

function readLocalLab(r: Reader, node: unknown, path: string): LocalLabAccess | undefined {
  // `localLab:` alone means "all defaults".
  const fields = r.isEmpty(node)
    ? new Map<string, unknown>()
    : r.fields(node, path, { optional: ["cpus", "memory", "disk"] }, "localLab");
  if (!fields) return undefined;
  const cpus = fields.has("cpus")
    ? r.integer(fields.get("cpus"), childPath(path, "cpus"), "cpus", 1, LAB_MAX_CPUS)
    : LAB_DEFAULTS.cpus;
  const memoryMiB = fields.has("memory")
    ? readMiB(
        r,
        fields.get("memory"),
        childPath(path, "memory"),
        "memory",
        LAB_MIN_MEMORY_MIB,
        VM_MAX_MEMORY_MIB,
      )
    : LAB_DEFAULTS.memoryMiB;
  let diskGiB: number | undefined = LAB_DEFAULTS.diskGiB;
  if (fields.has("disk")) {
    const diskPath = childPath(path, "disk");
    const mib = readMiB(
      r,
      fields.get("disk"),
      diskPath,
      "disk",
      LAB_MIN_DISK_GIB * 1024,
      LAB_MAX_DISK_GIB * 1024,
    );
    diskGiB = mib === undefined ? undefined : mib / 1024;
    if (diskGiB !== undefined && !Number.isInteger(diskGiB)) {
      r.report(
        diskPath,
        `disk must be a whole number of GiB (qemu-img sizes the lab disk in GiB), e.g. 8GiB`,
      );
      diskGiB = undefined;
    }
  }
  if (cpus === undefined || memoryMiB === undefined || diskGiB === undefined) return undefined;
  return { kind: "localLab", cpus, memoryMiB, diskGiB };
}

function readHostNics(r: Reader, node: unknown, path: string): DraftHostNic[] {
  return r.entries(node, path, "nics").map((entry) => {
    const problem = checkObjectName("NIC", entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    const fields = r.fields(
      entry.node,
      entry.path,
      { required: ["interface", "driver"] },
      `NIC ${entry.name}`,
    );
    const iface = fields?.has("interface")
      ? r.string(fields.get("interface"), childPath(entry.path, "interface"), "interface", checkInterfaceName)
      : undefined;
    const driver = fields?.has("driver")
      ? r.string(fields.get("driver"), childPath(entry.path, "driver"), "driver", checkDriverName)
      : undefined;
    return { name: entry.name, path: entry.path, interface: iface, driver };
  });
}

function readHugepages(r: Reader, node: unknown, path: string): HugepagesSpec | undefined {
  const fields = r.fields(node, path, { required: ["size", "count"] }, "hugepages");
  if (!fields) return undefined;
  const size = fields.has("size")
    ? r.oneOf(fields.get("size"), childPath(path, "size"), "hugepage size", ["2M", "1G"] as const)
    : undefined;
  const count = fields.has("count")
    ? r.integer(fields.get("count"), childPath(path, "count"), "hugepage count", 1, HUGEPAGES_MAX_COUNT)
    : undefined;
  return size === undefined || count === undefined ? undefined : { size, count };
}

function readHost(r: Reader, name: string, node: unknown, path: string): DraftHost {
  const fields = r.fields(
    node,
    path,
    { required: ["managementInterface"], optional: [...REMOTE_KEYS, "localLab", "nics", "hugepages"] },
    `host ${name}`,
  );
  if (!fields) return { name, path, nics: [], hugepagesDeclared: false };
  const remoteKeys = REMOTE_KEYS.filter((key) => fields.has(key));
  let access: DraftHost["access"];
  if (fields.has("localLab")) {
    if (remoteKeys.length > 0) {
      r.reportKey(
        childPath(path, "localLab"),
        `host ${name} has both localLab and ${remoteKeys.join("/")}: a host is ${BOTH_OPTIONS}; keep one`,
      );
    } else {
      access = readLocalLab(r, fields.get("localLab"), childPath(path, "localLab"));
    }
  } else if (remoteKeys.length === 0) {
    r.reportKey(path, `host ${name} needs ${BOTH_OPTIONS}`);
  } else {
    access = readRemote(r, name, fields, path);
  }
  const managementInterface = fields.has("managementInterface")
    ? r.string(
        fields.get("managementInterface"),
        childPath(path, "managementInterface"),
        "managementInterface",
        checkInterfaceName,
      )
    : undefined;
  const nics = readHostNics(r, fields.get("nics"), childPath(path, "nics"));
  const hugepages = fields.has("hugepages")
    ? readHugepages(r, fields.get("hugepages"), childPath(path, "hugepages"))
    : undefined;
  return {
    name,
    path,
    access,
    managementInterface,
    nics,
    hugepages,
    hugepagesDeclared: fields.has("hugepages"),
  };
}

export function readHosts(r: Reader, node: unknown, path: string): DraftHost[] {
  return r.entries(node, path, "hosts").map((entry) => {
    const problem = checkObjectName("host", entry.name);
    if (problem !== undefined) r.reportKey(entry.path, problem);
    return readHost(r, entry.name, entry.node, entry.path);
  });
}
