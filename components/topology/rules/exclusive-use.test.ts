import { baseDoc, problems, vm } from "../../../test/support/topology-test-fixtures";

describe("exclusive use", () => {
  it("lets each VM have its own port, NIC and pipe end", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { a: {}, b: {} }, uplinks: ["p1"] } };
    doc.vms = {
      vm1: vm(
        [
          { switch: "vale0", port: "a" },
          { pipe: "chain0", id: 1, end: "master" },
        ],
        { trust: "trusted" },
      ),
      vm2: vm([{ switch: "vale0", port: "b" }, { pipe: "chain0", id: 1, end: "slave" }, { nic: "p0" }], {
        trust: "trusted",
      }),
    };
    expect(problems(doc)).toEqual([]);
  });

  it("refuses a second user of a port, a NIC or a pipe end, at the second user", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { a: {} }, uplinks: ["p0"] } };
    doc.vms = {
      vm1: vm(
        [
          { switch: "vale0", port: "a" },
          { pipe: "chain0", id: 1, end: "master" },
        ],
        { trust: "trusted" },
      ),
      vm2: vm([{ switch: "vale0", port: "a" }, { pipe: "chain0", id: 1, end: "master" }, { nic: "p0" }], {
        trust: "trusted",
      }),
    };
    expect(problems(doc)).toEqual([
      "vms.vm2.nics[0].port: port a of switch vale0 is already used by VM vm1 (nics[0]); a VALE port serves one VM NIC: declare another port",
      "vms.vm2.nics[1].pipe: the master end of pipe chain0 id 1 is already used by VM vm1 (nics[1]); use the slave end or another id",
      "vms.vm2.nics[2].nic: NIC p0 of host h1 is already the uplink of switch vale0; a NIC serves one switch uplink or one VM: use another NIC or a VALE port",
    ]);
  });

  it("refuses the same port twice in one VM", () => {
    const doc = baseDoc();
    doc.vms = {
      vm1: vm([
        { switch: "vale0", port: "a" },
        { switch: "vale0", port: "a" },
      ]),
    };
    expect(problems(doc)).toEqual([
      expect.stringMatching(/^vms\.vm1\.nics\[1\]\.port: port a of switch vale0 is already used/),
    ]);
  });
});
