import fc from "fast-check";
import {
  allocateMacs,
  checkMac,
  generatedMac,
  isLocallyAdministered,
  isUnicast,
  normalizeMac,
  type MacRequest,
} from "./macs";

/** Any set of VMs (unique names) with 0..4 NICs each, as allocation requests in file order. */
const requestsArb = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), fc.integer({ min: 0, max: 4 })), {
    selector: ([name]) => name,
    maxLength: 40,
  })
  .map((vms) =>
    vms.flatMap(([vm, count]) =>
      Array.from({ length: count }, (_, nicIndex): MacRequest => ({ vm, nicIndex })),
    ),
  );

describe("MAC allocation", () => {
  it("is unique, unicast and locally administered for any set of VMs", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,32}$/), requestsArb, (topology, requests) => {
        const macs = allocateMacs(topology, requests);
        expect(macs).toHaveLength(requests.length);
        expect(new Set(macs).size).toBe(macs.length);
        for (const mac of macs) {
          expect(mac).toMatch(/^02(:[0-9a-f]{2}){5}$/);
          expect(isUnicast(mac) && isLocallyAdministered(mac)).toBe(true);
        }
      }),
    );
  });

  it("is deterministic and keyed by topology/vm/nic", () => {
    const requests = [
      { vm: "vm1", nicIndex: 0 },
      { vm: "vm1", nicIndex: 1 },
    ];
    expect(allocateMacs("lab", requests)).toEqual(allocateMacs("lab", requests));
    expect(allocateMacs("lab", requests)[0]).toBe(generatedMac("lab", "vm1", 0, 0));
    expect(generatedMac("lab", "vm1", 0, 0)).not.toBe(generatedMac("lab2", "vm1", 0, 0));
    // Adding a VM later does not move the MACs of existing ones.
    const grown = allocateMacs("lab", [...requests, { vm: "vm2", nicIndex: 0 }]);
    expect(grown.slice(0, 2)).toEqual(allocateMacs("lab", requests));
  });

  it("never hands out an explicit MAC, wherever it appears; moves on to the next candidate", () => {
    const taken = generatedMac("lab", "vm1", 0, 0);
    const macs = allocateMacs("lab", [
      { vm: "vm1", nicIndex: 0 },
      { vm: "vm2", nicIndex: 0, explicit: taken.toUpperCase() },
    ]);
    expect(macs).toEqual([generatedMac("lab", "vm1", 0, 1), taken]);
  });

  it("checks explicit MACs", () => {
    expect(normalizeMac("52-54-00-AB-CD-EF")).toBe("52:54:00:ab:cd:ef");
    expect(normalizeMac("52:54-00:ab:cd:ef")).toBeUndefined();
    expect(checkMac("52:54:00:12:34:56")).toBeUndefined();
    expect(checkMac("01:00:5e:00:00:01")).toContain("multicast");
    expect(checkMac("ff:ff:ff:ff:ff:ff")).toContain("multicast");
    expect(checkMac("00:00:00:00:00:00")).toContain("all-zero");
    expect(checkMac("02:00:00:00:01")).toContain("not a MAC address");
  });
});
