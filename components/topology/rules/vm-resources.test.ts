import { baseDoc, problems, vm, type Doc } from "../../../test/support/topology-test-fixtures";

function withVms(vms: Doc, hostExtra: Doc = {}): Doc {
  const doc = baseDoc();
  const hosts = doc.hosts as { h1: Doc };
  doc.hosts = { h1: { ...hosts.h1, ...hostExtra } };
  doc.vms = vms;
  return doc;
}

describe("CPU pinning", () => {
  it("accepts one distinct CPU per vCPU, distinct across VMs of a host", () => {
    expect(problems(withVms({ vm1: vm([], { pin: [2, 3] }), vm2: vm([], { pin: [4, 5] }) }))).toEqual([]);
  });

  it("reports count, duplicates and sharing", () => {
    expect(problems(withVms({ vm1: vm([], { pin: [2] }) }))).toEqual([
      "vms.vm1.pin: 1 pins for 2 vCPUs; give one host CPU per vCPU",
    ]);
    expect(problems(withVms({ vm1: vm([], { pin: [2, 2] }) }))).toEqual([
      "vms.vm1.pin[1]: host CPU 2 is pinned twice in VM vm1; give each vCPU its own host CPU",
    ]);
    expect(problems(withVms({ vm1: vm([], { pin: [2, 3] }), vm2: vm([], { pin: [3, 4] }) }))).toEqual([
      "vms.vm2.pin[0]: host CPU 3 of h1 is already pinned to VM vm1; VMs on one host need distinct CPUs",
    ]);
  });

  it("allows the same CPU numbers on different hosts", () => {
    const doc = withVms({ vm1: vm([], { pin: [2, 3] }), vm2: vm([], { pin: [2, 3], host: "h2" }) });
    doc.hosts = { ...(doc.hosts as Doc), h2: { ...((doc.hosts as Doc).h1 as Doc) } };
    expect(problems(doc)).toEqual([]);
  });
});

describe("hugepages", () => {
  it("need hugepages on the host", () => {
    expect(problems(withVms({ vm1: vm([], { hugepages: true }) }))).toEqual([
      expect.stringMatching(/^vms\.vm1\.hugepages: VM vm1 wants hugepages but host h1 reserves none/),
    ]);
    expect(
      problems(withVms({ vm1: vm([], { hugepages: true }) }, { hugepages: { size: "2M", count: 1024 } })),
    ).toEqual([]);
  });

  it("must cover the hugepage VMs' memory, and say by how much they fall short", () => {
    const two = { vm1: vm([], { hugepages: true }), vm2: vm([], { hugepages: true, memory: "4GiB" }) };
    expect(problems(withVms(two, { hugepages: { size: "1G", count: 6 } }))).toEqual([]);
    expect(problems(withVms(two, { hugepages: { size: "1G", count: 4 } }))).toEqual([
      "vms.vm2.memory: host h1 reserves 4 GiB of hugepages (4 x 1G) but its hugepage VMs need 6 GiB (vm1 2 GiB, vm2 4 GiB): 2 GiB short; raise hosts.h1.hugepages.count to 6, or set hugepages: false on VM vm2",
    ]);
    // VMs without hugepages take none.
    const mixed = { vm1: vm([], { hugepages: true }), vm2: vm([], { memory: "4GiB" }) };
    expect(problems(withVms(mixed, { hugepages: { size: "1G", count: 2 } }))).toEqual([]);
  });

  it("take whole pages", () => {
    expect(
      problems(
        withVms(
          { vm1: vm([], { hugepages: true, memory: "1536MiB" }) },
          { hugepages: { size: "1G", count: 4 } },
        ),
      ),
    ).toEqual([
      "vms.vm1.memory: VM vm1 has 1536 MiB of memory on 1G hugepages of host h1; make it a multiple of 1G",
    ]);
  });
});

describe("a local-lab host's memory", () => {
  function onLab(vms: Doc): Doc {
    const doc = withVms(vms);
    doc.hosts = { h1: { managementInterface: "eth0", localLab: { cpus: 4, memory: "3GiB" } } };
    doc.switches = {};
    doc.pipes = {};
    return doc;
  }
  it("holds its VMs and the host's own 512 MiB", () => {
    expect(problems(onLab({ vm1: vm([], { memory: "1GiB" }), vm2: vm([], { memory: "1536MiB" }) }))).toEqual(
      [],
    );
    expect(problems(onLab({ vm1: vm([], { memory: "1GiB" }), vm2: vm([], { memory: "2GiB" }) }))).toEqual([
      "vms.vm2.memory: host h1 is a local-lab VM with 3 GiB; with VM vm2 its VMs need 3 GiB plus 512 MiB for the host itself; raise hosts.h1.localLab.memory to at least 3584 MiB or give the VMs less memory",
    ]);
  });

  it("do not blame the VM when the host's hugepages are themselves invalid", () => {
    const found = problems(
      withVms({ vm1: vm([], { hugepages: true }) }, { hugepages: { size: "4M", count: 1 } }),
    );
    expect(found).toEqual([expect.stringMatching(/^hosts\.h1\.hugepages\.size: /)]);
  });
});
