/**
 * Name rules. netmap's come from upstream luigirizzo/netmap: nm_is_id_char()/nm_bdg_name_validate()
 * in sys/dev/netmap/netmap_bdg.c accept [0-9A-Za-z_] in switch and port names, each within
 * IFNAMSIZ (16 bytes with the NUL, so 15 characters); NM_BDG_NAME ("vale") is the switch prefix;
 * libnetmap's nmreq_header_decode() applies the same identifier rule to pipe names.
 * Each check returns what is wrong and what to do, or undefined when the name is fine.
 */

/** IFNAMSIZ - 1: Linux and netmap interface/port names. */
export const IFNAME_MAX = 15;

export const NETMAP_ID = /^[0-9A-Za-z_]+$/;
/** Topology object names (hosts, VMs, images, NICs): also used in systemd unit names and file paths. */
export const OBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const TOPOLOGY_NAME = /^[a-z0-9-]{1,32}$/;
/** Conservative subset of what Linux accepts in an interface name (dev_valid_name()). */
export const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;
export const DRIVER_NAME = /^[a-z0-9_]{1,32}$/;

export function checkObjectName(kind: string, name: string): string | undefined {
  if (OBJECT_NAME.test(name)) return undefined;
  return (
    `${kind} name "${name}" is not allowed: use 1 to 32 letters, digits, "_" or "-", starting with ` +
    `a letter or digit (it becomes part of unit names and file paths)`
  );
}

export function checkTopologyName(name: string): string | undefined {
  if (TOPOLOGY_NAME.test(name)) return undefined;
  return `topology name "${name}" is not allowed: use 1 to 32 lower-case letters, digits or "-"`;
}

function netmapIdProblem(name: string): string | undefined {
  if (!NETMAP_ID.test(name)) return `netmap allows only letters, digits and "_"`;
  if (name.length > IFNAME_MAX) return `netmap allows at most ${IFNAME_MAX} characters (IFNAMSIZ)`;
  return undefined;
}

export function checkSwitchName(name: string): string | undefined {
  const problem = name.startsWith("vale")
    ? netmapIdProblem(name)
    : `VALE switch names must start with "vale"`;
  if (problem === undefined) return undefined;
  return `switch name "${name}" is not allowed: ${problem}; rename it, e.g. "vale0"`;
}

export function checkPortName(name: string): string | undefined {
  const problem = netmapIdProblem(name);
  if (problem === undefined) return undefined;
  return `VALE port name "${name}" is not allowed: ${problem}; rename it, e.g. "vm1_p0"`;
}

export function checkPipeName(name: string): string | undefined {
  // A name starting with "vale" would make netmap parse the pipe's parent as a VALE port.
  const problem = name.startsWith("vale") ? `it must not start with "vale"` : netmapIdProblem(name);
  if (problem === undefined) return undefined;
  return `pipe name "${name}" is not allowed: ${problem}; rename it, e.g. "chain0"`;
}

export function checkInterfaceName(name: string): string | undefined {
  if (INTERFACE_NAME.test(name) && name !== "." && name !== "..") return undefined;
  return (
    `interface name "${name}" is not a valid Linux interface name: use 1 to ${IFNAME_MAX} letters, ` +
    `digits, "_", ".", ":" or "-" (as shown by \`ip link\`)`
  );
}

export function checkDriverName(name: string): string | undefined {
  if (DRIVER_NAME.test(name)) return undefined;
  return `driver name "${name}" is not a kernel module name: use lower-case letters, digits and "_", e.g. ixgbe`;
}
