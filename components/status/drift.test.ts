import {
  computeDrift,
  driverModuleName,
  expectedValeNames,
  firstArgvDifference,
  normalizeArgv,
  paramMatches,
} from "./drift";
import { renderStatusText, statusExitCode, type HostStatusReport } from "./render";
import { observedFor, statusTestPlan } from "../../test/support/status-test-fixtures";
import type { DriftItem, ObservedHost } from "./types";

const plan = statusTestPlan();
const clean = observedFor(plan);

/** The host with VALE port `port` gone from the listing. */
function withoutPort(o: ObservedHost, port: string): ObservedHost {
  return { ...o, vale: { ...o.vale, ports: o.vale.ports.filter((p) => p.port !== port) } };
}
const vm1 = plan.vms[0];

type Mutation = (o: ObservedHost) => ObservedHost;

const withVale = (o: ObservedHost, vale: Partial<ObservedHost["vale"]>): ObservedHost => ({
  ...o,
  vale: { ...o.vale, ...vale },
});

const cases: readonly {
  readonly name: string;
  readonly mutate: Mutation;
  readonly expected: readonly Partial<DriftItem>[];
}[] = [
  {
    name: "netmap not loaded",
    mutate: (o) => ({ ...o, netmap: { ...o.netmap, loaded: false, params: {} } }),
    expected: [{ kind: "missing", area: "netmap", subject: "module netmap", actual: "not loaded" }],
  },
  {
    name: "param buf_num 4096 ≠ 327680",
    mutate: (o) => ({ ...o, netmap: { ...o.netmap, params: { ...o.netmap.params, buf_num: "4096" } } }),
    expected: [
      {
        kind: "different",
        area: "param",
        subject: "netmap param buf_num",
        expected: "327680",
        actual: "4096",
      },
    ],
  },
  {
    name: "param not exposed by this netmap",
    mutate: (o) => ({ ...o, netmap: { ...o.netmap, params: { buf_num: "327680" } } }),
    expected: [{ kind: "missing", area: "param", subject: "netmap param ptnet_vnet_hdr", actual: null }],
  },
  {
    name: "NIC ens1f0 on stock ixgbe",
    mutate: (o) => ({
      ...o,
      interfaces: o.interfaces.map((i) => (i.name === "ens1f0" ? { ...i, usesNetmap: false } : i)),
    }),
    expected: [
      {
        kind: "different",
        area: "nic",
        subject: "NIC p0 (ens1f0)",
        expected: "patched ixgbe",
        actual: "stock ixgbe",
      },
    ],
  },
  {
    name: "NIC ens1f0 on another driver",
    mutate: (o) => ({
      ...o,
      interfaces: o.interfaces.map((i) =>
        i.name === "ens1f0" ? { ...i, driver: "igb", module: "igb", usesNetmap: false } : i,
      ),
    }),
    expected: [{ kind: "different", area: "nic", subject: "NIC p0 (ens1f0)", actual: "igb" }],
  },
  {
    name: "NIC ens1f0 gone",
    mutate: (o) => ({ ...o, interfaces: o.interfaces.filter((i) => i.name !== "ens1f0") }),
    expected: [{ kind: "missing", area: "nic", subject: "NIC p0 (ens1f0)", actual: null }],
  },
  {
    name: "loaded ixgbe is not the installed file",
    mutate: (o) => ({
      ...o,
      modules: o.modules.map((m) => (m.name === "ixgbe" ? { ...m, srcversion: "OLDSRC" } : m)),
    }),
    expected: [
      { kind: "different", area: "module", subject: "module ixgbe", actual: "srcversion OLDSRC (loaded)" },
    ],
  },
  {
    name: "VALE port vale0:vm10 missing",
    mutate: (o) => withVale(o, { ports: o.vale.ports.filter((p) => p.port !== "vm10") }),
    expected: [
      { kind: "missing", area: "vale", subject: "VALE port vale0:vm10", expected: "attached", actual: null },
    ],
  },
  {
    name: "uplink host port (hostStack) missing",
    mutate: (o) => withVale(o, { ports: o.vale.ports.filter((p) => p.port !== "ens1f0^") }),
    expected: [{ kind: "missing", area: "vale", subject: "VALE port vale0:ens1f0^" }],
  },
  {
    name: "extra port vale0:x",
    mutate: (o) =>
      withVale(o, { ports: [...o.vale.ports, { switch: "vale0", port: "x", bridgeIdx: 0, portIdx: 9 }] }),
    expected: [{ kind: "extra", area: "vale", subject: "VALE port vale0:x", expected: null }],
  },
  {
    name: "extra port on a switch the topology does not know",
    mutate: (o) =>
      withVale(o, { ports: [...o.vale.ports, { switch: "vale7", port: "y", bridgeIdx: 1, portIdx: 0 }] }),
    expected: [{ kind: "extra", area: "vale", subject: "VALE port vale7:y" }],
  },
  {
    name: "corrupted port (listed without switch prefix)",
    mutate: (o) =>
      withVale(o, {
        anomalies: [
          {
            kind: "missing-switch-prefix",
            name: "z",
            bridgeIdx: 0,
            portIdx: 3,
            likelySwitch: "vale0",
            line: "z bridge_idx 0 port_idx 3",
            message: "port z is listed without its switch prefix: corrupted",
          },
        ],
      }),
    expected: [{ kind: "different", area: "vale", subject: "VALE port z", expected: "vale0:z" }],
  },
  {
    name: "VALE listing unavailable",
    mutate: (o) => withVale(o, { available: false, error: "vale-ctl not found", ports: [] }),
    expected: [{ kind: "missing", area: "vale", subject: "VALE listing", actual: "vale-ctl not found" }],
  },
  {
    // netmap removes a VM's port when its QEMU exits: the port is not missing then.
    name: "VM vm10 not running",
    mutate: (o) =>
      withoutPort(
        { ...o, vms: o.vms.map((vm) => (vm.name === "vm10" ? { ...vm, processes: [] } : vm)) },
        "vm10",
      ),
    expected: [{ kind: "missing", area: "vm", subject: "VM vm10", expected: "running" }],
  },
  {
    name: "VM vm10 unknown to the host at all",
    mutate: (o) => withoutPort({ ...o, vms: o.vms.filter((vm) => vm.name !== "vm10") }, "vm10"),
    expected: [{ kind: "missing", area: "vm", subject: "VM vm10", actual: "not running" }],
  },
  {
    name: "VM vm10 stopped, its port still listed (a persistent port in the way of its QEMU)",
    mutate: (o) => ({ ...o, vms: o.vms.map((vm) => (vm.name === "vm10" ? { ...vm, processes: [] } : vm)) }),
    expected: [
      {
        kind: "extra",
        area: "vale",
        subject: "VALE port vale0:vm10",
        message: expect.stringMatching(/exists while VM vm10 is not running/) as unknown as string,
      },
      { kind: "missing", area: "vm", subject: "VM vm10" },
    ],
  },
  {
    name: "VM vm10 running with a different argv",
    mutate: (o) => ({
      ...o,
      vms: o.vms.map((vm) =>
        vm.name === "vm10"
          ? {
              ...vm,
              processes: [
                { pid: 1000, interpreter: [], argv: vm1.qemuArgs.map((a) => (a === "512M" ? "1024M" : a)) },
              ],
            }
          : vm,
      ),
    }),
    expected: [
      {
        kind: "different",
        area: "vm",
        subject: "VM vm10",
        expected: `argv[${vm1.qemuArgs.indexOf("512M")}] "512M"`,
        actual: `argv[${vm1.qemuArgs.indexOf("512M")}] "1024M"`,
      },
    ],
  },
  {
    name: "VM vm10 running twice",
    mutate: (o) => ({
      ...o,
      vms: o.vms.map((vm) =>
        vm.name === "vm10" ? { ...vm, processes: [...vm.processes, { ...vm.processes[0], pid: 4242 }] } : vm,
      ),
    }),
    expected: [{ kind: "different", area: "vm", subject: "VM vm10", expected: "one QEMU process" }],
  },
  {
    name: "extra VM running",
    mutate: (o) => ({
      ...o,
      vms: [
        ...o.vms,
        {
          name: "stray",
          dir: null,
          unit: null,
          unitActive: null,
          recordedArgv: null,
          processes: [{ pid: 7, interpreter: [], argv: ["qemu-system-x86_64"] }],
        },
      ],
    }),
    expected: [{ kind: "extra", area: "vm", subject: "VM stray", actual: "running (pid 7)" }],
  },
  {
    name: "leftover unit of a VM not in the topology",
    mutate: (o) => ({
      ...o,
      vms: [
        ...o.vms,
        {
          name: "old",
          dir: null,
          unit: "netmap-testbed-vm-old.service",
          unitActive: "failed",
          recordedArgv: null,
          processes: [],
        },
      ],
    }),
    expected: [{ kind: "extra", area: "vm", subject: "VM old" }],
  },
  {
    name: "QEMU build missing",
    mutate: (o) => ({ ...o, qemuPrefixes: [] }),
    expected: [{ kind: "missing", area: "qemu", actual: "no such prefix" }],
  },
  {
    name: "QEMU prefix with another build",
    mutate: (o) => ({ ...o, qemuPrefixes: o.qemuPrefixes.map((p) => ({ ...p, configKey: "other" })) }),
    expected: [{ kind: "different", area: "qemu", actual: "config key other" }],
  },
];

describe("computeDrift", () => {
  it("finds nothing on a host that matches its plan", () => {
    expect(computeDrift(plan, clean)).toEqual([]);
  });

  it.each(cases)("$name", ({ mutate, expected }) => {
    const drift = computeDrift(plan, mutate(clean));
    expect(drift).toHaveLength(expected.length);
    expected.forEach((want, i) => expect(drift[i]).toMatchObject(want));
    for (const item of drift) expect(item.message.length).toBeGreaterThan(10);
  });

  it("reports several kinds at once, in a stable order", () => {
    const o: ObservedHost = {
      ...clean,
      netmap: { ...clean.netmap, params: { ...clean.netmap.params, buf_num: "4096" } },
      vale: {
        ...clean.vale,
        ports: [
          ...clean.vale.ports.filter((p) => p.port !== "vm10" && p.port !== "vm20"),
          { switch: "vale0", port: "x", bridgeIdx: 0, portIdx: 9 },
        ],
      },
      vms: clean.vms.map((vm) => (vm.name === "vm20" ? { ...vm, processes: [] } : vm)),
    };

    expect(computeDrift(plan, o).map((d) => `${d.kind} ${d.subject}`)).toEqual([
      "different netmap param buf_num",
      "missing VALE port vale0:vm10",
      "extra VALE port vale0:x",
      "missing VM vm20",
    ]);
  });

  it("maps a non-default state/opt root back to the planner's paths before comparing argv", () => {
    const map = (a: string): string =>
      a
        .split("/var/lib/netmap-testbed/")
        .join("/tmp/t1/state/")
        .split("/opt/netmap-testbed/")
        .join("/tmp/t1/opt/");
    const o: ObservedHost = {
      ...clean,
      paths: { stateDir: "/tmp/t1/state", optDir: "/tmp/t1/opt/", cacheDir: "/tmp/t1/cache" },
      vms: clean.vms.map((vm) => ({
        ...vm,
        processes: vm.processes.map((p) => ({ ...p, argv: p.argv.map(map) })),
      })),
      qemuPrefixes: clean.qemuPrefixes.map((p) => ({ ...p, prefix: map(p.prefix) })),
    };
    expect(computeDrift(plan, o)).toEqual([]);
    expect(normalizeArgv(["file=/tmp/t1/state/vms/a/x,if=virtio"], o)).toEqual([
      "file=/var/lib/netmap-testbed/vms/a/x,if=virtio",
    ]);
  });

  it("a plan without VMs wants no QEMU and accepts no running VM", () => {
    const bare = statusTestPlan(false);
    expect(computeDrift(bare, { ...observedFor(bare), vms: [] })).toEqual([]);
    const drift = computeDrift(bare, { ...observedFor(bare), vms: clean.vms });
    expect(drift.map((d) => `${d.kind} ${d.subject}`)).toEqual(["extra VM vm10", "extra VM vm20"]);
  });
});

describe("helpers", () => {
  it.each([
    ["327680", 327680, true],
    [" 4096\n", 4096, true],
    ["4096", 327680, false],
    ["Y", 1, true],
    ["N", 0, true],
    ["Y", 0, false],
    ["007", 7, true],
  ])("paramMatches(%j, %d) = %s", (actual, expected, result) => {
    expect(paramMatches(actual, expected)).toBe(result);
  });

  it("driverModuleName", () => {
    expect(driverModuleName("virtio_net.c")).toBe("virtio_net");
    expect(driverModuleName("ixgbe")).toBe("ixgbe");
    expect(driverModuleName("foo-bar")).toBe("foo_bar");
  });

  it("expectedValeNames lists ports, uplinks and -h host ports", () => {
    expect(expectedValeNames(plan)).toEqual(["vale0:vm10", "vale0:vm20", "vale0:ens1f0", "vale0:ens1f0^"]);
  });

  it("firstArgvDifference", () => {
    expect(firstArgvDifference(["a", "b"], ["a", "b"])).toBeNull();
    expect(firstArgvDifference(["a", "b"], ["a", "c"])).toEqual({ index: 1, expected: "b", actual: "c" });
    expect(firstArgvDifference(["a"], ["a", "x"])).toEqual({ index: 1, expected: null, actual: "x" });
  });
});

describe("rendering", () => {
  const reports: HostStatusReport[] = [
    { name: "h1", reachable: true, observed: clean, drift: [] },
    {
      name: "h2",
      reachable: true,
      observed: clean,
      drift: computeDrift(
        plan,
        withVale(clean, { ports: clean.vale.ports.filter((p) => p.port !== "vm10") }),
      ),
    },
    {
      name: "h3",
      reachable: false,
      error: "host h3 (root@192.0.2.13:22): unreachable: timed out",
      observed: null,
      drift: [],
    },
  ];

  it("text: a headline per host, drift lines, a summary", () => {
    const text = renderStatusText(reports);
    expect(text).toContain("host h1: no drift");
    expect(text).toContain("host h2: 1 drift item\n");
    expect(text).toMatch(/ {2}missing {4}VALE port vale0:vm10: want attached, host has nothing/);
    expect(text).toContain("host h3: unreachable: host h3 (root@192.0.2.13:22): unreachable: timed out");
    expect(text).toContain("3 hosts: 1 without drift, 1 with drift, 1 unreachable or unreadable");
  });

  it("exit code: 0 only when every host is clean", () => {
    expect(statusExitCode([reports[0]])).toBe(0);
    expect(statusExitCode(reports.slice(0, 2))).toBe(1);
    expect(statusExitCode([reports[0], reports[2]])).toBe(1);
    expect(statusExitCode([])).toBe(0);
  });
});
