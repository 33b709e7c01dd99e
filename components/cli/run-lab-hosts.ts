/**
 * How `run` reaches local-lab hosts: their SSH port, host key and login key exist only once the
 * lab is booted, and boot-host.sh records them in each host's host.json. Read there (the same
 * lookup as `status`), they spare the user a hand-written host-key file and --identity.
 */
import * as fs from "node:fs";
import type { KnownMachineKey } from "../playbooks/host-keys";
import type { TopologyModel } from "../topology/model";
import { findLabHost } from "./lab-host";

export interface LabHostAccess {
  /** Host-key entries (with address and port) of the lab hosts the caller had no entry for. */
  readonly keys: ReadonlyMap<string, KnownMachineKey>;
  /** The lab's own login key (every lab host, and the VMs on them, accept it), when recorded. */
  readonly privateKeyPath?: string;
}

/**
 * The booted lab hosts of `topology` not already in `known`, or the first problem in one line
 * (a lab host that is not booted, or several that match).
 */
export function labHostAccess(
  topology: TopologyModel,
  known: ReadonlyMap<string, KnownMachineKey> | undefined,
  options: { readonly stack?: string; readonly labState?: string; readonly home: string },
): LabHostAccess | { readonly problem: string } {
  const labHosts = topology.hosts.filter((host) => host.access.kind === "localLab");
  const keys = new Map<string, KnownMachineKey>();
  let privateKeyPath: string | undefined;
  for (const host of labHosts) {
    if (known?.has(host.name)) continue;
    const found = findLabHost(host.name, options.labState, options.stack, options.home, labHosts.length);
    if (typeof found === "string") return { problem: found };
    keys.set(host.name, {
      name: host.name,
      hostKey: found.hostKey,
      address: found.address,
      port: found.port,
    });
    if (found.privateKeyPath !== null && fs.existsSync(found.privateKeyPath)) {
      privateKeyPath ??= found.privateKeyPath;
    }
  }
  return { keys, ...(privateKeyPath ? { privateKeyPath } : {}) };
}
