/**
 * Builders for TopologyModel values in tests (the parser/validator lives elsewhere): defaults for
 * everything, overrides for what a test cares about, and the paper's three setups.
 */
import type {
  HostNicSpec,
  HostSpec,
  ImageSpec,
  PipeSpec,
  SwitchSpec,
  TopologyModel,
  VmNicSpec,
  VmSpec,
} from "../../components/topology/model";
import { TEST_SHA512 } from "./test-digests";

export const TEST_IMAGE: ImageSpec = {
  kind: "url",
  name: "debian12",
  url: "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-amd64.qcow2",
  digest: { algorithm: "sha512", hex: TEST_SHA512 },
  os: "linux",
};

export function testHost(name: string, overrides: Partial<Omit<HostSpec, "name">> = {}): HostSpec {
  return {
    name,
    access: {
      kind: "remote",
      address: "192.0.2.11",
      port: 22,
      user: "root",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestHostKeyOnlyForUnitTests",
    },
    managementInterface: "eno1",
    nics: [],
    ...overrides,
  };
}

export function testNic(name: string, iface: string, driver: string): HostNicSpec {
  return { name, interface: iface, driver };
}

export function testVm(
  name: string,
  host: string,
  overrides: Partial<Omit<VmSpec, "name" | "host">> = {},
): VmSpec {
  return {
    name,
    host,
    image: TEST_IMAGE.name,
    cpus: 2,
    memoryMiB: 2048,
    hugepages: false,
    trust: "untrusted",
    nics: [],
    ...overrides,
  };
}

export function testModel(overrides: Partial<TopologyModel> = {}): TopologyModel {
  return {
    apiVersion: "netmap-testbed/v1",
    name: "test",
    sourceFile: "<inline>",
    netmap: {
      source: { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref: "master" },
      drivers: [],
      driverVersions: {},
      params: {},
    },
    qemu: { source: { kind: "git", git: "https://github.com/netmap-unipi/qemu.git", ref: "master" } },
    images: [TEST_IMAGE],
    hosts: [],
    switches: [],
    pipes: [],
    vms: [],
    ...overrides,
  };
}

function mac(n: number): string {
  return `52:54:00:00:00:${n.toString(16).padStart(2, "0")}`;
}

/**
 * The three setups of the 2015 ptnetmap paper:
 * h1: VM↔NIC (trusted vm-nic owns NIC p0) and VM↔VM over VALE (untrusted vm-a, vm-b on vale0,
 *     with p1 as the switch's uplink keeping the host stack);
 * h2: VM↔VM over a pipe (trusted vm-c, vm-d on the two ends of chain0{1 / chain0}1), hugepages;
 * h3: netmap only, no VMs.
 */
export function paperModel(): TopologyModel {
  const h1 = testHost("h1", {
    nics: [
      testNic("p0", "ens1f0", "ixgbe"),
      testNic("p1", "ens1f1", "ixgbe"),
      testNic("p2", "ens2f0", "i40e"),
    ],
  });
  const h2 = testHost("h2", {
    access: {
      kind: "remote",
      address: "192.0.2.12",
      port: 2222,
      user: "lab",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISecondTestHostKey",
    },
    nics: [testNic("q0", "ens1f0", "i40e")],
    hugepages: { size: "1G", count: 8 },
  });
  const h3 = testHost("h3", { access: { kind: "localLab", cpus: 2, memoryMiB: 4096, diskGiB: 20 } });
  const vale0: SwitchSpec = {
    name: "vale0",
    host: "h1",
    ports: [
      { name: "va", rings: 1, slots: 1024 },
      { name: "vb", slots: 2048 },
    ],
    uplinks: ["p1"],
    hostStack: true,
  };
  const chain0: PipeSpec = { name: "chain0", host: "h2" };
  const nic = (spec: VmNicSpec): VmNicSpec => spec;
  return testModel({
    name: "paper-2015",
    sourceFile: "stacks/topologies/paper-2015.yaml",
    netmap: {
      source: { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref: "master" },
      drivers: ["ixgbe", "i40e"],
      driverVersions: { ixgbe: "6.1.6" },
      params: { buf_num: 327680, priv_buf_num: 8192 },
    },
    hosts: [h1, h2, h3],
    switches: [vale0],
    pipes: [chain0],
    vms: [
      testVm("vm-nic", "h1", {
        trust: "trusted",
        pin: [2, 3],
        nics: [nic({ kind: "nic", nic: "p0", mac: mac(1) })],
      }),
      testVm("vm-a", "h1", {
        cpus: 1,
        nics: [nic({ kind: "vale", switch: "vale0", port: "va", mac: mac(2) })],
      }),
      testVm("vm-b", "h1", {
        cpus: 1,
        nics: [nic({ kind: "vale", switch: "vale0", port: "vb", mac: mac(3) })],
      }),
      testVm("vm-c", "h2", {
        trust: "trusted",
        hugepages: true,
        pin: [4, 5],
        nics: [nic({ kind: "pipe", pipe: "chain0", id: 1, end: "master", mac: mac(4) })],
      }),
      testVm("vm-d", "h2", {
        trust: "trusted",
        hugepages: true,
        memoryMiB: 1024,
        cpus: 1,
        nics: [nic({ kind: "pipe", pipe: "chain0", id: 1, end: "slave", mac: mac(5) })],
      }),
    ],
  });
}
