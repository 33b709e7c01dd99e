import fc from "fast-check";
import type { HostSpec, PipeSpec, SwitchSpec, TopologyModel, VmNicSpec, VmSpec } from "../topology/model";
import { configKey } from "./canonical-hash";
import { planNetmapBuild } from "./netmap-build";
import { planTestbed } from "./plan-testbed";
import { planToJson } from "./plan-json";
import { testHost, testModel, testNic, testVm } from "../../test/support/plan-test-model";

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const hostShape = fc.record({
  nicDrivers: fc.array(fc.constantFrom("ixgbe", "i40e", "virtio_net", "e1000e", "veth"), { maxLength: 4 }),
  hugepages: maybe(fc.constantFrom("2M" as const, "1G" as const)),
  switches: fc.array(
    fc.array(
      fc.record({ rings: maybe(fc.integer({ min: 1, max: 8 })), slots: maybe(fc.constantFrom(256, 1024)) }),
      {
        maxLength: 4,
      },
    ),
    { maxLength: 2 },
  ),
  hostStack: fc.boolean(),
  pipeCount: fc.integer({ min: 0, max: 2 }),
  vms: fc.array(
    fc.record({
      cpus: fc.integer({ min: 1, max: 4 }),
      memoryMiB: fc.constantFrom(512, 1024, 2048),
      hugepages: fc.boolean(),
      pinned: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
  // Who gets resource i: a VM index, -1 nobody, -2 the first switch as an uplink (NICs only).
  owners: fc.array(fc.integer({ min: -2, max: 3 }), { minLength: 32, maxLength: 32 }),
});

/** A valid model: every port, pipe end and NIC used by at most one VM, names unique, pins distinct. */
const modelArb: fc.Arbitrary<TopologyModel> = fc
  .record({
    hosts: fc.array(hostShape, { minLength: 1, maxLength: 3 }),
    drivers: fc.subarray(["ixgbe", "i40e", "veth"]),
  })
  .map(({ hosts: shapes, drivers }) => {
    const hosts: HostSpec[] = [];
    const switches: SwitchSpec[] = [];
    const pipes: PipeSpec[] = [];
    const vms: VmSpec[] = [];
    let macCounter = 0;
    const nextMac = () => {
      macCounter += 1;
      return `52:54:00:00:${(macCounter >> 8).toString(16).padStart(2, "0")}:${(macCounter & 255).toString(16).padStart(2, "0")}`;
    };
    shapes.forEach((shape, h) => {
      const hostName = `h${h}`;
      const nics = shape.nicDrivers.map((driver, i) => testNic(`n${i}`, `eth${i}`, driver));
      hosts.push(
        testHost(hostName, {
          nics,
          ...(shape.hugepages ? { hugepages: { size: shape.hugepages, count: 4 } } : {}),
        }),
      );
      const vmNics: VmNicSpec[][] = shape.vms.map(() => []);
      const hostSwitches: SwitchSpec[] = shape.switches.map((ports, s) => ({
        name: `vale${h}${s}`,
        host: hostName,
        ports: ports.map((geometry, p) => ({ name: `p${p}`, ...geometry })),
        uplinks: [],
        hostStack: shape.hostStack,
      }));
      type Resource = (mac: string) => VmNicSpec;
      const resources: { use: Resource; nic?: string }[] = [
        ...nics.map((nic) => ({
          use: (mac: string) => ({ kind: "nic" as const, nic: nic.name, mac }),
          nic: nic.name,
        })),
        ...hostSwitches.flatMap((sw) =>
          sw.ports.map((port) => ({
            use: (mac: string) => ({ kind: "vale" as const, switch: sw.name, port: port.name, mac }),
          })),
        ),
      ];
      for (let p = 0; p < shape.pipeCount; p++) {
        const pipe = `pipe${h}${p}`;
        pipes.push({ name: pipe, host: hostName });
        for (const id of [1, 2]) {
          for (const end of ["master", "slave"] as const) {
            resources.push({ use: (mac: string) => ({ kind: "pipe", pipe, id, end, mac }) });
          }
        }
      }
      const uplinks: string[] = [];
      resources.forEach((resource, i) => {
        const owner = shape.owners[i % shape.owners.length];
        if (owner >= 0 && owner < shape.vms.length) vmNics[owner].push(resource.use(nextMac()));
        else if (owner === -2 && resource.nic && hostSwitches.length > 0) uplinks.push(resource.nic);
      });
      if (hostSwitches.length > 0) hostSwitches[0] = { ...hostSwitches[0], uplinks };
      switches.push(...hostSwitches);
      let nextCpu = 1;
      shape.vms.forEach((vmShape, v) => {
        const pin = vmShape.pinned ? Array.from({ length: vmShape.cpus }, () => nextCpu++) : undefined;
        vms.push(
          testVm(`vm${h}${v}`, hostName, {
            cpus: vmShape.cpus,
            memoryMiB: vmShape.memoryMiB,
            hugepages: vmShape.hugepages && shape.hugepages !== undefined,
            ...(pin ? { pin } : {}),
            trust: vmNics[v].every((nic) => nic.kind === "vale") ? "untrusted" : "trusted",
            nics: vmNics[v],
          }),
        );
      });
    });
    const base = testModel();
    return { ...base, netmap: { ...base.netmap, drivers }, hosts, switches, pipes, vms };
  });

/** Values of `flag` in argv, e.g. every string that follows "-netdev". */
function optionValues(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag && i + 1 < argv.length ? [argv[i + 1]] : []));
}

describe("planner properties", () => {
  it("orders steps after everything they depend on, and every dependency exists", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        for (const host of planTestbed(model).hosts) {
          const position = new Map(host.steps.map((step, index) => [step.id, index]));
          expect(position.size).toBe(host.steps.length);
          host.steps.forEach((step, index) => {
            for (const dep of step.dependsOn) {
              expect(position.has(dep)).toBe(true);
              expect(position.get(dep)).toBeLessThan(index);
            }
          });
        }
      }),
    );
  });

  it("makes each VM depend on the pipes, image, QEMU and hugepages it uses; its VALE ports are its own", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        for (const host of planTestbed(model).hosts) {
          for (const vm of host.vms) {
            const deps = host.steps.find((step) => step.id === `vm:${vm.name}`)?.dependsOn ?? [];
            expect(deps).toEqual(
              expect.arrayContaining(["qemu-build", `image:${vm.spec.image}`, "netmap-load"]),
            );
            if (vm.spec.hugepages) expect(deps).toContain("hugepages");
            for (const nic of vm.spec.nics) {
              if (nic.kind === "vale") {
                // QEMU makes the port as the VM starts: no step creates it, none may stand in its way.
                expect(host.steps.map((step) => step.id)).not.toContain(
                  `vale-port:${nic.switch}:${nic.port}`,
                );
                const port = host.switches
                  .find((sw) => sw.name === nic.switch)
                  ?.ports.find((candidate) => candidate.name === nic.port);
                expect(port?.vm).toBe(vm.name);
              }
              if (nic.kind === "pipe") expect(deps).toContain(`pipe:${nic.pipe}`);
            }
          }
        }
      }),
    );
  });

  it("puts every VM NIC in the argv exactly once, as a netmap netdev and its ptnet device", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        for (const host of planTestbed(model).hosts) {
          for (const vm of host.vms) {
            const netdevs = optionValues(vm.qemuArgs, "-netdev");
            const devices = optionValues(vm.qemuArgs, "-device");
            expect(netdevs.filter((value) => value.startsWith("netmap,"))).toHaveLength(vm.spec.nics.length);
            expect(devices.filter((value) => value.startsWith("ptnet-pci,"))).toHaveLength(
              vm.spec.nics.length,
            );
            vm.nics.forEach((nic, i) => {
              expect(nic.mac).toBe(vm.spec.nics[i].mac);
              const netdev = `netmap,id=${nic.netdevId},ifname=${nic.ifname},passthrough=on`;
              const device = `ptnet-pci,netdev=${nic.netdevId},mac=${nic.mac}`;
              expect(netdevs.filter((value) => value === netdev)).toHaveLength(1);
              expect(devices.filter((value) => value === device)).toHaveLength(1);
              expect(netdevs.filter((value) => value.includes(`ifname=${nic.ifname},`))).toHaveLength(1);
              // The device's netdev= must name this netdev and no other.
              expect(
                netdevs.filter((value) => new RegExp(`(^|,)id=${nic.netdevId}(,|$)`).test(value)),
              ).toHaveLength(1);
            });
          }
        }
      }),
    );
  });

  it("never reuses a netdev id within a VM", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        for (const host of planTestbed(model).hosts) {
          for (const vm of host.vms) {
            const ids = optionValues(vm.qemuArgs, "-netdev").map(
              (value) => /(?:^|,)id=([^,]+)/.exec(value)?.[1],
            );
            expect(ids.every((id) => id !== undefined)).toBe(true);
            expect(new Set(ids).size).toBe(ids.length);
          }
        }
      }),
    );
  });

  it("gives every VM on a host its own SSH forward port, forwarded in its argv", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        for (const host of planTestbed(model).hosts) {
          const ports = host.vms.map((vm) => vm.sshForwardPort);
          expect(new Set(ports).size).toBe(ports.length);
          for (const vm of host.vms) {
            expect(optionValues(vm.qemuArgs, "-netdev")).toContain(
              `user,id=mgmt,hostfwd=tcp:127.0.0.1:${vm.sshForwardPort}-:22`,
            );
          }
        }
      }),
    );
  });

  it("is deterministic and JSON-stable", () => {
    fc.assert(
      fc.property(modelArb, (model) => {
        const json = planToJson(planTestbed(model));
        expect(planToJson(planTestbed(model))).toEqual(json);
        expect(JSON.parse(JSON.stringify(json))).toEqual(json);
      }),
      { numRuns: 50 },
    );
  });
});

describe("config key properties", () => {
  const paramName = fc.constantFrom(
    "buf_num",
    "ring_num",
    "if_num",
    "priv_buf_num",
    "admode",
    "ptnet_vnet_hdr",
  );
  const entries = fc.uniqueArray(fc.tuple(paramName, fc.integer({ min: 0, max: 1_000_000 })), {
    selector: ([name]) => name,
    minLength: 1,
  });

  it("does not depend on the order keys are written in (params, driver versions)", () => {
    fc.assert(
      fc.property(
        entries.chain((list) =>
          fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
        ),
        ([written, shuffled]) => {
          expect(configKey({ params: Object.fromEntries(shuffled) })).toBe(
            configKey({ params: Object.fromEntries(written) }),
          );
          const versions = (list: typeof written) =>
            Object.fromEntries(list.map(([name, v]) => [name, `1.${v}`]));
          const build = (list: typeof written) =>
            planNetmapBuild({ ...testModel().netmap, drivers: ["ixgbe"], driverVersions: versions(list) })
              .configKey;
          expect(build(shuffled)).toBe(build(written));
        },
      ),
    );
  });

  it("changes when any value changes", () => {
    fc.assert(
      fc.property(entries, fc.nat(), (list, pick) => {
        const [name, value] = list[pick % list.length];
        const changed = { ...Object.fromEntries(list), [name]: value + 1 };
        expect(configKey({ params: changed })).not.toBe(configKey({ params: Object.fromEntries(list) }));
        const versions = Object.fromEntries(list.map(([n, v]) => [n, `1.${v}`]));
        const build = (driverVersions: Record<string, string>) =>
          planNetmapBuild({ ...testModel().netmap, drivers: ["ixgbe"], driverVersions }).configKey;
        expect(build({ ...versions, [name]: `2.${value}` })).not.toBe(build(versions));
      }),
    );
  });

  it("changes when the source ref or the driver set changes", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9.]{1,12}$/),
        fc.stringMatching(/^[a-z0-9.]{1,12}$/),
        fc.subarray(["ixgbe", "i40e", "ice", "veth"]),
        fc.subarray(["ixgbe", "i40e", "ice", "veth"]),
        (refA, refB, driversA, driversB) => {
          const key = (ref: string, drivers: string[]) =>
            planNetmapBuild({
              ...testModel().netmap,
              source: { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref },
              drivers,
            }).configKey;
          const sameDrivers = [...driversA].sort().join() === [...driversB].sort().join();
          expect(key(refA, driversA) === key(refB, driversB)).toBe(refA === refB && sameDrivers);
        },
      ),
    );
  });
});
