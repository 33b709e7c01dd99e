import { baseDoc, problems, vm } from "../../../test/support/topology-test-fixtures";

describe("trust", () => {
  const nics = [{ switch: "vale0", port: "a" }, { pipe: "chain0", id: 1, end: "master" }, { nic: "p0" }];

  it("trusted VMs may use pipe ends and NICs", () => {
    const doc = baseDoc();
    doc.vms = { vm1: vm(nics, { trust: "trusted" }) };
    expect(problems(doc)).toEqual([]);
  });

  it.each([undefined, "untrusted"])("untrusted VMs (trust: %s) only get VALE ports", (trust) => {
    const doc = baseDoc();
    doc.vms = { vm1: vm(nics, trust === undefined ? {} : { trust }) };
    const found = problems(doc);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^vms\.vm1\.nics\[1\]\.pipe: .*set trust: trusted or attach through a VALE port$/,
    );
    expect(found[1]).toMatch(
      /^vms\.vm1\.nics\[2\]\.nic: .*set trust: trusted or attach through a VALE port$/,
    );
  });

  it("an unreadable trust value is reported once, without guessing", () => {
    const doc = baseDoc();
    doc.vms = { vm1: vm(nics, { trust: "maybe" }) };
    expect(problems(doc)).toEqual(['vms.vm1.trust: trust must be untrusted or trusted, got "maybe"']);
  });
});
