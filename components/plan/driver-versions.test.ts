import {
  kernelSeries,
  KNOWN_GOOD_DRIVER_VERSIONS,
  KNOWN_GOOD_EVIDENCE,
  resolveDriverVersions,
} from "./driver-versions";

describe("kernelSeries", () => {
  it.each([
    ["6.1.0-50-amd64", "6.1"],
    ["6.1.0", "6.1"],
    ["5.4.0-91-generic", "5.4"],
    ["5.11.0-41-generic", "5.11"],
    ["6.10.3-arch1-1", "6.10"],
    ["4.19", "4.19"],
    ["garbage", undefined],
    ["6", undefined],
  ])("%s → %s", (release, series) => {
    expect(kernelSeries(release)).toBe(series);
  });
});

interface ResolveCase {
  readonly name: string;
  readonly drivers: string[];
  readonly explicit: Record<string, string>;
  readonly release: string;
  readonly versions: Record<string, string>;
  readonly source: Record<string, string>;
}

describe("resolveDriverVersions", () => {
  it.each<ResolveCase>([
    {
      name: "Debian 12: known-good for both",
      drivers: ["ixgbe", "i40e"],
      explicit: {},
      release: "6.1.0-50-amd64",
      versions: { i40e: "2.28.9", ixgbe: "6.1.6" },
      source: { i40e: "known-good", ixgbe: "known-good" },
    },
    {
      name: "explicit wins over known-good",
      drivers: ["ixgbe", "i40e"],
      explicit: { ixgbe: "5.19.6" },
      release: "6.1.0-50-amd64",
      versions: { i40e: "2.28.9", ixgbe: "5.19.6" },
      source: { i40e: "known-good", ixgbe: "topology" },
    },
    {
      name: "unknown series: netmap's default, no version",
      drivers: ["ixgbe", "i40e"],
      explicit: {},
      release: "6.8.0-51-generic",
      versions: {},
      source: { i40e: "netmap-default", ixgbe: "netmap-default" },
    },
    {
      name: "series known but driver not in its row",
      drivers: ["ixgbe", "ice"],
      explicit: {},
      release: "5.8.0-63-generic",
      versions: {},
      source: { ice: "netmap-default", ixgbe: "netmap-default" },
    },
    {
      name: "5.4 row",
      drivers: ["i40e", "ixgbe"],
      explicit: {},
      release: "5.4.0-91-generic",
      versions: { i40e: "2.15.9", ixgbe: "5.7.1" },
      source: { i40e: "known-good", ixgbe: "known-good" },
    },
    {
      name: "in-tree drivers take no version",
      drivers: ["veth", "e1000", "i40e"],
      explicit: {},
      release: "6.1.0-50-amd64",
      versions: { i40e: "2.28.9" },
      source: { i40e: "known-good" },
    },
    {
      name: "explicit version on an in-tree driver is passed on (configure warns)",
      drivers: ["veth"],
      explicit: { veth: "1" },
      release: "6.1.0-50-amd64",
      versions: { veth: "1" },
      source: { veth: "topology" },
    },
    {
      name: "explicit version for a driver not built is ignored",
      drivers: ["i40e"],
      explicit: { ixgbe: "6.1.6" },
      release: "6.1.0-50-amd64",
      versions: { i40e: "2.28.9" },
      source: { i40e: "known-good" },
    },
    {
      name: "no drivers",
      drivers: [],
      explicit: {},
      release: "6.1.0-50-amd64",
      versions: {},
      source: {},
    },
    {
      name: "prototype keys are not versions",
      drivers: ["ixgbe", "toString"],
      explicit: {},
      release: "6.8.0",
      versions: {},
      source: { ixgbe: "netmap-default" },
    },
  ])("$name", ({ drivers, explicit, release, versions, source }) => {
    expect(resolveDriverVersions(drivers, explicit, release)).toEqual({ versions, source });
  });
});

describe("KNOWN_GOOD_DRIVER_VERSIONS", () => {
  it("has the versions measured on Debian 12's 6.1 kernel", () => {
    expect(KNOWN_GOOD_DRIVER_VERSIONS["6.1"]).toEqual({ ixgbe: "6.1.6", i40e: "2.28.9" });
  });

  it("cites evidence for every row", () => {
    expect(Object.keys(KNOWN_GOOD_EVIDENCE).sort()).toEqual(Object.keys(KNOWN_GOOD_DRIVER_VERSIONS).sort());
  });

  it("only names versions netmap has a patch for (LINUX/final-patches/intel--DRIVER--VERSION)", () => {
    const patchesUpstream = new Set(["ixgbe 6.1.6", "i40e 2.28.9", "i40e 2.15.9", "ixgbe 5.7.1"]);
    for (const row of Object.values(KNOWN_GOOD_DRIVER_VERSIONS)) {
      for (const [driver, version] of Object.entries(row)) {
        expect(patchesUpstream).toContain(`${driver} ${version}`);
      }
    }
  });
});
