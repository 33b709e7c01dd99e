/**
 * Test builders for the status code: a small topology (one host, one patched NIC, a switch with an
 * uplink kept on the host stack, two VMs) and an ObservedHost that matches a plan exactly, for tests
 * to break one piece at a time.
 */
import { planTestbed } from "../../components/plan/plan-testbed";
import type { HostPlan } from "../../components/plan/types";
import { parseTopology } from "../../components/topology";
import { TEST_SHA512 } from "./test-digests";
import { expectedValeNames } from "../../components/status/drift";
import { HOST_STATUS_SCHEMA, type ObservedHost } from "../../components/status/types";

export const TEST_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47";

export interface StatusTopologyHost {
  readonly name: string;
  readonly address: string;
  readonly hostKey: string;
  readonly port?: number;
}

/** A topology with netmap params, a patched NIC, vale0 (ports vm1, vm2, uplink p0 with -h) and VMs vm1, vm2 per host. */
export function statusTopologyYaml(hosts: readonly StatusTopologyHost[], vms = true): string {
  const lines = [
    "apiVersion: netmap-testbed/v1",
    "name: status-test",
    "netmap:",
    "  source: { hostPath: /srv/netmap.tar.gz }",
    "  drivers: [ixgbe]",
    "  driverVersions: { ixgbe: 6.1.6 }",
    "  params: { buf_num: 327680, ptnet_vnet_hdr: 0 }",
  ];
  if (vms) {
    lines.push(
      "qemu:",
      "  source: { hostPath: /srv/qemu.tar.gz }",
      "images:",
      "  debian12:",
      "    url: https://example.org/debian12.qcow2",
      `    sha512: "${TEST_SHA512}"`,
    );
  }
  lines.push("hosts:");
  for (const host of hosts) {
    lines.push(
      `  ${host.name}:`,
      `    address: ${host.address}`,
      ...(host.port !== undefined ? [`    port: ${host.port}`] : []),
      `    hostKey: "${host.hostKey}"`,
      "    managementInterface: eth0",
      "    nics:",
      "      p0: { interface: ens1f0, driver: ixgbe }",
    );
  }
  lines.push("switches:");
  hosts.forEach((host, i) => {
    lines.push(
      `  vale${i}:`,
      `    host: ${host.name}`,
      "    hostStack: true",
      "    uplinks: [p0]",
      "    ports:",
      `      vm1${i}: {}`,
      `      vm2${i}: {}`,
    );
  });
  if (vms) {
    lines.push("vms:");
    hosts.forEach((host, i) => {
      for (const vm of [1, 2]) {
        lines.push(
          `  vm${vm}${i}:`,
          `    host: ${host.name}`,
          "    image: debian12",
          "    cpus: 1",
          "    memory: 512MiB",
          "    nics:",
          `      - { switch: vale${i}, port: vm${vm}${i} }`,
        );
      }
    });
  }
  return `${lines.join("\n")}\n`;
}

/** The plan of the first host of {@link statusTopologyYaml}. */
export function statusTestPlan(vms = true): HostPlan {
  const model = parseTopology(
    statusTopologyYaml([{ name: "h1", address: "192.0.2.11", hostKey: TEST_HOST_KEY }], vms),
    "status-test.yaml",
  );
  return planTestbed(model).hosts[0];
}

/** What a host that matches `plan` exactly looks like to status.sh. */
export function observedFor(plan: HostPlan): ObservedHost {
  const drivers = plan.netmapLoad.patchedDrivers;
  return {
    schema: HOST_STATUS_SCHEMA,
    hostname: plan.name,
    kernelRelease: "6.1.0-50-amd64",
    paths: {
      stateDir: "/var/lib/netmap-testbed",
      optDir: "/opt/netmap-testbed",
      cacheDir: "/var/cache/netmap-testbed",
    },
    netmap: {
      loaded: true,
      refcnt: drivers.length,
      holders: [...drivers],
      params: Object.fromEntries(
        Object.entries(plan.netmapLoad.moduleParams).map(([name, value]) => [name, String(value)]),
      ),
      devNetmap: true,
    },
    modules: ["netmap", ...drivers].map((name) => ({
      name,
      loaded: true,
      builtin: false,
      initstate: "live",
      version: null,
      srcversion: `SRC-${name}`,
      refcnt: 0,
      holders: name === "netmap" ? [...drivers] : [],
      usesNetmap: name !== "netmap",
      file: {
        path: `/lib/modules/6.1.0-50-amd64/extra/netmap-testbed/${name}.ko`,
        version: null,
        srcversion: `SRC-${name}`,
        depends: name === "netmap" ? [] : ["netmap"],
        vermagic: "6.1.0-50-amd64 SMP preempt mod_unload modversions",
      },
    })),
    interfaces: [
      {
        name: plan.netmapLoad.managementInterface,
        driver: "virtio_net",
        module: "virtio_net",
        kind: null,
        usesNetmap: false,
        operstate: "up",
      },
      ...plan.netmapLoad.patchedNics.map((nic) => ({
        name: nic.interface,
        driver: nic.driver,
        module: nic.driver,
        kind: null,
        usesNetmap: true,
        operstate: "up",
      })),
    ],
    vale: {
      available: true,
      error: null,
      raw: null,
      ports: expectedValeNames(plan).map((name, i) => ({
        switch: name.slice(0, name.indexOf(":")),
        port: name.slice(name.indexOf(":") + 1),
        bridgeIdx: 0,
        portIdx: i,
      })),
      anomalies: [],
    },
    vms: plan.vms.map((vm, i) => ({
      name: vm.name,
      dir: vm.paths.dir,
      unit: vm.paths.unit,
      unitActive: "active",
      recordedArgv: [...vm.qemuArgs],
      processes: [{ pid: 1000 + i, interpreter: [], argv: [...vm.qemuArgs] }],
    })),
    netmapBuilds: [],
    qemuPrefixes: plan.qemuBuild
      ? [
          {
            prefix: plan.qemuBuild.prefix,
            exists: true,
            stamped: true,
            configKey: plan.qemuBuild.configKey,
            commit: "abc1234",
            source: "path /srv/qemu.tar.gz",
            binary: plan.qemuBuild.binary,
            executable: true,
          },
        ]
      : [],
    recorded: { loadArgs: null, installedModules: null, touchedModules: null, persistent: false },
  };
}
