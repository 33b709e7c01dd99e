import { baseDoc, problems, vm, type Doc } from "../test-fixtures";

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
      problems(withVms({ vm1: vm([], { hugepages: true }) }, { hugepages: { size: "2M", count: 512 } })),
    ).toEqual([]);
  });

  it("do not blame the VM when the host's hugepages are themselves invalid", () => {
    const found = problems(
      withVms({ vm1: vm([], { hugepages: true }) }, { hugepages: { size: "4M", count: 1 } }),
    );
    expect(found).toEqual([expect.stringMatching(/^hosts\.h1\.hugepages\.size: /)]);
  });
});
