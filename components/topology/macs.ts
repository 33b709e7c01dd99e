/**
 * VM NIC MAC addresses: explicit ones are checked, the others are generated deterministically so a
 * redeploy gives every guest the same MACs (stable ARP tables, stable udev interface names).
 *
 * Generated MACs are `02:` + 40 bits of sha256("topology/vm/nicIndex"). 0x02 is a unicast,
 * locally administered first octet (IEEE 802: bit 0 = group, bit 1 = local). We do not use QEMU's
 * 52:54:00 prefix: QEMU's own defaults (52:54:00:12:34:5x) and libvirt live there, and it leaves
 * only 24 bits to hash into, while 40 bits keep collisions between labs sharing a wire negligible.
 */
import { createHash } from "node:crypto";

const MAC = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** Lower-case, colon-separated form, or undefined if `text` is not six hex octets. */
export function normalizeMac(text: string): string | undefined {
  return MAC.test(text) ? text.toLowerCase().replace(/-/g, ":") : undefined;
}

export function isUnicast(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

export function isLocallyAdministered(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 2) === 2;
}

export function checkMac(text: string): string | undefined {
  const mac = normalizeMac(text);
  if (mac === undefined)
    return `mac "${text}" is not a MAC address; write six hex octets, e.g. "02:00:00:00:00:01"`;
  if (!isUnicast(mac)) {
    return `mac "${text}" is a multicast address (lowest bit of the first octet set); use a unicast one, e.g. "02:…"`;
  }
  if (mac === "00:00:00:00:00:00")
    return `mac "${text}" is the all-zero address; use e.g. "02:00:00:00:00:01"`;
  return undefined;
}

/** The candidate MAC for a NIC; `attempt` > 0 derives the next candidate after a collision. */
export function generatedMac(topology: string, vm: string, nicIndex: number, attempt: number): string {
  const seed = attempt === 0 ? `${topology}/${vm}/${nicIndex}` : `${topology}/${vm}/${nicIndex}/${attempt}`;
  const digest = createHash("sha256").update(seed).digest();
  const octets = [0x02, ...digest.subarray(0, 5)];
  return octets.map((octet) => octet.toString(16).padStart(2, "0")).join(":");
}

export interface MacRequest {
  readonly vm: string;
  readonly nicIndex: number;
  /** A valid explicit MAC (already checked and de-duplicated), if the topology gives one. */
  readonly explicit?: string;
}

/**
 * One MAC per request, in order. Explicit MACs are reserved first, so a generated MAC never takes
 * one the user chose, wherever it appears in the file; collisions move on to the next candidate.
 */
export function allocateMacs(topology: string, requests: readonly MacRequest[]): string[] {
  const used = new Set<string>();
  for (const request of requests) {
    if (request.explicit !== undefined) used.add(normalizeMac(request.explicit) ?? request.explicit);
  }
  return requests.map((request) => {
    if (request.explicit !== undefined) return normalizeMac(request.explicit) ?? request.explicit;
    for (let attempt = 0; ; attempt++) {
      const candidate = generatedMac(topology, request.vm, request.nicIndex, attempt);
      if (!used.has(candidate)) {
        used.add(candidate);
        return candidate;
      }
    }
  });
}
