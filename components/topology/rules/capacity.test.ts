import { baseDoc, problems, vm, type Doc } from "../../../test/support/topology-test-fixtures";

function withPorts(count: number, uplinks: string[], hostStack: boolean): Doc {
  const doc = baseDoc();
  const ports = Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, {}]));
  doc.switches = { vale0: { host: "h1", ports, uplinks, hostStack } };
  doc.vms = {};
  return doc;
}

describe("VALE switch capacity", () => {
  it("allows 252 slots and refuses 253", () => {
    expect(problems(withPorts(252, [], false))).toEqual([]);
    expect(problems(withPorts(251, ["p0"], false))).toEqual([]);
    expect(problems(withPorts(252, ["p0"], false))).toEqual([
      expect.stringContaining("needs 253 port slots"),
    ]);
  });

  it("counts an uplink with host stack as two slots", () => {
    expect(problems(withPorts(250, ["p0"], true))).toEqual([]);
    expect(problems(withPorts(251, ["p0"], true))).toEqual([expect.stringContaining("needs 253 port slots")]);
  });
});

describe("switches per host", () => {
  function switches(count: number, maxBridges?: number): Doc {
    const doc = baseDoc();
    doc.switches = Object.fromEntries(Array.from({ length: count }, (_, i) => [`vale${i}`, { host: "h1" }]));
    doc.vms = {};
    if (maxBridges !== undefined)
      doc.netmap = { ...(doc.netmap as Doc), params: { max_bridges: maxBridges } };
    return doc;
  }

  it("defaults to netmap's 8", () => {
    expect(problems(switches(8))).toEqual([]);
    expect(problems(switches(9))).toEqual([
      "switches.vale8: host h1 has 9 VALE switches but netmap allows 8 VALE switches per host by default; merge switches or raise netmap.params.max_bridges",
    ]);
  });

  it("follows netmap.params.max_bridges", () => {
    expect(problems(switches(9, 16))).toEqual([]);
    expect(problems(switches(3, 2))).toEqual([expect.stringContaining("netmap.params.max_bridges is 2")]);
  });

  it("counts per host", () => {
    const doc = switches(8);
    doc.hosts = { ...(doc.hosts as Doc), h2: { ...((doc.hosts as Doc).h1 as Doc) } };
    (doc.switches as Doc).vale8 = { host: "h2" };
    expect(problems(doc)).toEqual([]);
  });
});

describe("pipe ids", () => {
  it("allows 64 ids per pipe, not 65", () => {
    const doc = baseDoc();
    const ends = (count: number): Doc[] =>
      Array.from({ length: count }, (_, id) => ({ pipe: "chain0", id, end: "master" }));
    doc.vms = { vm1: vm(ends(64), { trust: "trusted" }) };
    expect(problems(doc)).toEqual([]);
    doc.vms = { vm1: vm(ends(65), { trust: "trusted" }) };
    expect(problems(doc)).toEqual([
      expect.stringMatching(/^vms\.vm1\.nics\[64\]\.id: pipe chain0 would have 65 ids/),
    ]);
  });
});
