/** Small valid topologies for tests, built as plain objects so each test changes only what it checks. */
import { stringify } from "yaml";
import { checkTopology, type TopologyCheck } from "../../components/topology/check";
import { TEST_SHA256 } from "./test-digests";

export const KEY_H1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47";

export type Doc = Record<string, unknown>;

/** One remote host h1 with two NICs, a VALE switch, a pipe and one untrusted VM on a VALE port. */
export function baseDoc(): Doc {
  return {
    apiVersion: "netmap-testbed/v1",
    name: "t",
    netmap: {
      source: { git: "https://github.com/luigirizzo/netmap.git", ref: "master" },
      drivers: ["ixgbe"],
    },
    qemu: { source: { git: "https://github.com/netmap-unipi/qemu.git", ref: "master" } },
    images: { debian12: { url: "https://example.org/d.qcow2", sha256: TEST_SHA256.toUpperCase() } },
    hosts: {
      h1: {
        address: "192.0.2.11",
        hostKey: KEY_H1,
        managementInterface: "eno1",
        nics: { p0: { interface: "ens1f0", driver: "ixgbe" }, p1: { interface: "ens1f1", driver: "ixgbe" } },
      },
    },
    switches: { vale0: { host: "h1", ports: { a: {}, b: {} } } },
    pipes: { chain0: { host: "h1" } },
    vms: {
      vm1: { host: "h1", image: "debian12", cpus: 2, memory: "2GiB", nics: [{ switch: "vale0", port: "a" }] },
    },
  };
}

export function check(doc: Doc): TopologyCheck {
  return checkTopology(stringify(doc), "t.yaml");
}

/** "PATH: message" of every issue, for compact assertions. */
export function problems(doc: Doc): string[] {
  return check(doc).issues.map((issue) => `${issue.path}: ${issue.message}`);
}

/** A VM on h1 with the given NICs and extra fields. */
export function vm(nics: readonly Doc[], extra: Doc = {}): Doc {
  return { host: "h1", image: "debian12", cpus: 2, memory: "2GiB", nics, ...extra };
}
