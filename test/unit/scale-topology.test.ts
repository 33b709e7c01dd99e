/**
 * The bench's synthetic topology (test/bench/scale-topology.ts) is one that `validate` and `plan`
 * accept: the same functions those commands run (checkTopology, planTestbed), in-process.
 */
import { planTestbed, type TestbedPlan } from "../../components/plan";
import { checkTopology, formatIssue } from "../../components/topology";
import { VALE_USABLE_PORT_SLOTS } from "../../components/topology/limits";
import { scaleTopology } from "../bench/scale-topology";

function planOf(hosts: number, vmsPerHost: number): TestbedPlan {
  const file = `scale-${hosts}x${vmsPerHost}.yaml`;
  const { model, issues } = checkTopology(scaleTopology(hosts, vmsPerHost), file);
  expect(issues.map(formatIssue)).toEqual([]);
  if (model === undefined) throw new Error(`${file}: no model`);
  return planTestbed(model);
}

function expectDistinct(values: readonly string[]): void {
  expect(new Set(values).size).toBe(values.length);
}

describe("scaleTopology", () => {
  it.each([
    [1, 1],
    [4, 16],
    [64, 16],
  ])("%i hosts × %i VMs passes validate and plan", (hosts, vmsPerHost) => {
    const plan = planOf(hosts, vmsPerHost);
    expect(plan.hosts).toHaveLength(hosts);
    const vms = plan.hosts.flatMap((host) => host.vms);
    expect(vms).toHaveLength(hosts * vmsPerHost);
    for (const host of plan.hosts) {
      expect(host.vms).toHaveLength(vmsPerHost);
      expect(host.switches).toHaveLength(1);
      expect(host.switches[0].ports).toHaveLength(vmsPerHost);
      // The planner forwards each VM's SSH from its own host's loopback: distinct per host.
      expectDistinct(host.vms.map((vm) => String(vm.sshForwardPort)));
    }
    expectDistinct(plan.hosts.map((host) => host.name));
    expectDistinct(plan.hosts.map((host) => host.switches[0].name));
    expectDistinct(vms.map((vm) => vm.name));
    expectDistinct(vms.map((vm) => vm.paths.unit));
    expectDistinct(
      plan.hosts.map((host) => (host.spec.access.kind === "remote" ? host.spec.access.address : "")),
    );
    expectDistinct(plan.hosts.flatMap((host) => host.switches[0].ports.map((port) => port.attachedName)));
    expectDistinct(vms.flatMap((vm) => vm.nics.map((nic) => nic.mac)));
    expectDistinct(plan.hosts.flatMap((host) => host.vms.map((vm) => `${host.name}:${vm.sshForwardPort}`)));
    // Every VM's NIC is the VM's own port, opened by its QEMU (no persistent port step).
    for (const host of plan.hosts) {
      expect(host.switches[0].ports.map((port) => port.vm)).toEqual(host.vms.map((vm) => vm.name));
    }
  });

  it("stays within the ports of one VALE switch", () => {
    expect(() => planOf(1, VALE_USABLE_PORT_SLOTS)).not.toThrow();
    expect(() => scaleTopology(1, VALE_USABLE_PORT_SLOTS + 1)).toThrow(RangeError);
    expect(() => scaleTopology(0, 1)).toThrow(RangeError);
    expect(() => scaleTopology(1.5, 1)).toThrow(RangeError);
  });
});
