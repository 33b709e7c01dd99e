/** A small topology and a playbook builder for the playbook tests. */
import { KEY_H1 } from "./topology-test-fixtures";
import { TEST_SHA256 } from "./test-digests";
import { checkPlaybook, type PlaybookCheck } from "../../components/playbooks/check";

export const TOPOLOGY_FILE = "/lab/t.yaml";

/** One host h1: NICs p0 (free), p1 (passed to vm1), p2 (uplink of vale0); vale0, vale1, pipe chain0, VM vm1. */
export const TOPOLOGY = `apiVersion: netmap-testbed/v1
name: t
netmap: { source: { git: https://github.com/luigirizzo/netmap.git, ref: master } }
qemu: { source: { git: https://github.com/netmap-unipi/qemu.git, ref: master } }
images: { d: { url: https://example.org/d.qcow2, sha256: "${TEST_SHA256}" } }
hosts:
  h1:
    address: 192.0.2.11
    hostKey: "${KEY_H1}"
    managementInterface: eno1
    nics:
      p0: { interface: ens1f0, driver: ixgbe }
      p1: { interface: ens1f1, driver: ixgbe }
      p2: { interface: ens1f2, driver: ixgbe }
switches:
  vale0: { host: h1, ports: { a: {}, b: {}, vm: {} }, uplinks: [p2] }
  vale1: { host: h1, ports: { c: {} } }
pipes: { chain0: { host: h1 } }
vms:
  vm1:
    host: h1
    image: d
    cpus: 2
    memory: 1GiB
    trust: trusted
    nics:
      - { switch: vale0, port: vm }
      - { pipe: chain0, id: 1, end: master }
      - { nic: p1 }
`;

/** Files the tests may read: the topology next to the playbook. */
export function readFixture(file: string): string {
  if (file === TOPOLOGY_FILE) return TOPOLOGY;
  const error = new Error(`ENOENT: ${file}`) as NodeJS.ErrnoException;
  error.code = "ENOENT";
  throw error;
}

export const HEADER = `apiVersion: netmap-testbed/playbook-v1
name: p
topology: t.yaml
`;

export function check(text: string): PlaybookCheck {
  return checkPlaybook(text, "/lab/p.yaml", { readFile: readFixture });
}

/** `LINE:COL: PATH: message` of every issue (the file name left out). */
export function issues(text: string): string[] {
  return check(text).issues.map((i) => `${i.line}:${i.col}: ${i.path}: ${i.message}`);
}
