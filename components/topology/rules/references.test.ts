import { baseDoc, problems, vm } from "../../../test/support/topology-test-fixtures";

describe("references", () => {
  it("resolve in the base topology", () => {
    expect(problems(baseDoc())).toEqual([]);
  });

  it("report every dangling name with a suggestion", () => {
    const doc = baseDoc();
    doc.switches = { vale0: { host: "h1", ports: { a: {} }, uplinks: ["p3"] } };
    doc.vms = {
      vm1: vm(
        [
          { switch: "vale9", port: "a" },
          { switch: "vale0", port: "x" },
          { pipe: "chain1", id: 0, end: "master" },
          { nic: "p2" },
        ],
        { trust: "trusted", image: "debian13" },
      ),
    };
    expect(problems(doc).map((line) => line.split(";")[0])).toEqual([
      'switches.vale0.uplinks[0]: host h1 has no NIC named "p3" (did you mean "p0"?)',
      'vms.vm1.image: no image named "debian13" (did you mean "debian12"?)',
      'vms.vm1.nics[0].switch: no switch named "vale9" (did you mean "vale0"?)',
      'vms.vm1.nics[1].port: switch vale0 has no port "x"',
      'vms.vm1.nics[2].pipe: no pipe named "chain1" (did you mean "chain0"?)',
      'vms.vm1.nics[3].nic: host h1 (where VM vm1 runs) has no NIC named "p2" (did you mean "p0"?)',
    ]);
  });
});
