import { baseDoc, check, problems, vm } from "../../../test/support/topology-test-fixtures";

describe("VM ports", () => {
  it("a VM's VALE port takes no geometry: each of rings and slots is reported at its line", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { a: { rings: 2, slots: 2048 }, b: { rings: 4 } } } };
    doc.vms = { vm1: vm([{ switch: "vale0", port: "a" }]) };
    const result = check(doc);
    expect(result.issues.map((issue) => `${issue.path}: ${issue.message.split(":")[0]}`)).toEqual([
      "switches.vale0.ports.a.rings: port a of switch vale0 is VM vm1's NIC, which the ptnet QEMU opens with netmap's default geometry (1 ring, 1024 slots)",
      "switches.vale0.ports.a.slots: port a of switch vale0 is VM vm1's NIC, which the ptnet QEMU opens with netmap's default geometry (1 ring, 1024 slots)",
    ]);
    expect(result.issues.every((issue) => issue.line !== undefined && issue.line > 0)).toBe(true);
    expect(result.issues[0].message).toMatch(/remove rings, or keep it on a port no VM uses/);
  });

  it("a port no VM uses keeps its geometry", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { a: {}, b: { rings: 4, slots: 512 } } } };
    expect(problems(doc)).toEqual([]);
  });
});
