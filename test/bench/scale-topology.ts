/**
 * A synthetic topology for `npm run bench:scale` (test/bench/scale-bench.ts): `hosts` remote hosts
 * h001…hNNN, each with its management interface and one VALE switch `vale_hNNN`, and `vmsPerHost`
 * VMs per host (hNNN-vmMM: 1 vCPU, 512 MiB, no pins, no hugepages, untrusted), each on its own
 * port of its host's switch, all booting paper-2015's dated Debian 12 image (url + sha512).
 * Addresses are 10.0.0.0/8 (10.0.0.1 for h001, …) and every host has the same example host key,
 * in paper-2015.yaml's style: the file is only validated and planned, never deployed.
 *
 * What shaped it (the validator's rules in components/topology/):
 * - ports per switch: netmap refuses a port once 252 slots of a switch are in use
 *   (VALE_USABLE_PORT_SLOTS in limits.ts, checked by rules/capacity.ts), so with one switch per
 *   host `vmsPerHost` is at most 252; more throws a RangeError instead of producing a file that
 *   `validate` rejects. Switches per host (8 by default) are not reached: one each.
 * - names: port names are netmap ids, [0-9A-Za-z_] and at most 15 characters (names.ts), so
 *   `hNNN_vmMM` with "_"; VM and host names allow "-"; switch names start with "vale". VALE port
 *   names must be unique among one host's interfaces (rules/host-namespace.ts): the host's name
 *   in each port name makes them unique across the whole file as well.
 * - memory: 512 MiB is above the 256 MiB minimum (VM_MIN_MEMORY_MIB); a remote host declares no
 *   memory, so nothing caps how many VMs it takes (only localLab hosts are checked).
 * - SSH forwards: the planner gives a host's VMs 10022, 10023, … on that host's loopback
 *   (SSH_FORWARD_PORT_BASE in components/plan/vm.ts); 252 VMs stay far below 65535.
 * - pins and hugepages are optional and would only add rules (distinct CPUs, page counts): none.
 */
import { VALE_USABLE_PORT_SLOTS } from "../../components/topology/limits";

/** paper-2015.yaml's pins and image (a dated Debian 12 cloud image and its line of SHA512SUMS). */
const NETMAP_SOURCE =
  "{ git: https://github.com/luigirizzo/netmap.git, ref: 89607e1406c1fa5ac2106bd2ff33417f090c0d60 }";
const QEMU_SOURCE =
  "{ git: https://github.com/netmap-unipi/qemu.git, ref: 292a8b6145726f8d4de0b18340fb4866ea4e49ff }";
const IMAGE_URL =
  "https://cloud.debian.org/images/cloud/bookworm/20260923-2610/debian-12-genericcloud-amd64-20260923-2610.qcow2";
const IMAGE_SHA512 =
  "3d94c9dd66d8a283fde060b8810373b7ae04038b956ee00d553d1ae564f6fbdeaa2fd6e7404e87e53348b5a9509170f3ea7c0731ba737590c5c4cb8d559a47f8";
/** paper-2015.yaml's example key of h1 (a well-formed ed25519 key line), for every host. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47";
/** 10.0.0.0/8 has 2^24 - 2 usable host numbers (10.0.0.1 … 10.255.255.254). */
const MAX_HOSTS = 2 ** 24 - 2;

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** Host number n (1-based) → 10.a.b.c with a.b.c the 24 bits of n. */
function hostAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function checkCount(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${what} must be an integer from 1 to ${max}, got ${value}`);
  }
}

/** Topology YAML (schema netmap-testbed/v1) with `hosts` × `vmsPerHost` VMs; valid for validate and plan. */
export function scaleTopology(hosts: number, vmsPerHost: number): string {
  checkCount("hosts", hosts, MAX_HOSTS);
  // One switch per host, one port per VM: the ports of a switch bound the VMs of a host.
  checkCount("vmsPerHost", vmsPerHost, VALE_USABLE_PORT_SLOTS);
  const hostWidth = Math.max(3, String(hosts).length);
  const vmWidth = Math.max(2, String(vmsPerHost).length);
  const hostNames = Array.from({ length: hosts }, (_, i) => `h${pad(i + 1, hostWidth)}`);
  const vmIds = Array.from({ length: vmsPerHost }, (_, i) => `vm${pad(i + 1, vmWidth)}`);

  const lines: string[] = [
    "apiVersion: netmap-testbed/v1",
    `name: scale-${hosts}x${vmsPerHost}`,
    "netmap:",
    `  source: ${NETMAP_SOURCE}`,
    "qemu:",
    `  source: ${QEMU_SOURCE}`,
    "images:",
    "  debian12:",
    `    url: ${IMAGE_URL}`,
    `    sha512: "${IMAGE_SHA512}"`,
    "    os: linux",
    "hosts:",
  ];
  hostNames.forEach((host, i) => {
    lines.push(
      `  ${host}:`,
      `    address: ${hostAddress(i + 1)}`,
      `    hostKey: "${HOST_KEY} root@${host}"`,
      "    managementInterface: eno1",
    );
  });
  lines.push("switches:");
  for (const host of hostNames) {
    lines.push(`  vale_${host}:`, `    host: ${host}`, "    ports:");
    for (const vm of vmIds) lines.push(`      ${host}_${vm}: {}`);
  }
  lines.push("vms:");
  for (const host of hostNames) {
    for (const vm of vmIds) {
      lines.push(
        `  ${host}-${vm}:`,
        `    host: ${host}`,
        "    image: debian12",
        "    cpus: 1",
        "    memory: 512MiB",
        "    nics:",
        `      - { switch: vale_${host}, port: ${host}_${vm} }`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
