import { planSwitch, planValePort, valeGeometryArgs } from "./vale";

describe("valeGeometryArgs (vale-ctl -C tx_slots,rx_slots,tx_rings,rx_rings; 0 = netmap's default)", () => {
  it.each([
    [{}, []],
    [{ rings: 2, slots: 1024 }, ["-C", "1024,1024,2,2"]],
    [{ slots: 2048 }, ["-C", "2048,2048,0,0"]],
    [{ rings: 4 }, ["-C", "0,0,4,4"]],
  ])("%j → %j", (port, args) => {
    expect(valeGeometryArgs(port)).toEqual(args);
  });
});

describe("planValePort", () => {
  it("creates, attaches, detaches and deletes by the right names", () => {
    expect(planValePort("vale0", { name: "vm1", rings: 1, slots: 1024 })).toEqual({
      name: "vm1",
      attachedName: "vale0:vm1",
      createArgs: ["-n", "vm1", "-C", "1024,1024,1,1"],
      attachArgs: ["-a", "vale0:vm1"],
      detachArgs: ["-d", "vale0:vm1"],
      deleteArgs: ["-r", "vm1"],
    });
  });
});

describe("planSwitch uplinks", () => {
  const nics = [{ name: "p0", interface: "ens1f0", driver: "ixgbe" }];
  it.each([
    [false, "-a"],
    [true, "-h"],
  ])("hostStack %s attaches with %s", (hostStack, flag) => {
    const plan = planSwitch({ name: "vale1", host: "h1", ports: [], uplinks: ["p0"], hostStack }, nics);
    expect(plan.uplinks).toEqual([
      {
        nic: "p0",
        interface: "ens1f0",
        attachArgs: [flag, "vale1:ens1f0"],
        detachArgs: ["-d", "vale1:ens1f0"],
      },
    ]);
  });

  it("rejects an uplink the host does not have", () => {
    expect(() =>
      planSwitch({ name: "vale1", host: "h1", ports: [], uplinks: ["p9"], hostStack: false }, nics),
    ).toThrow(/p9/);
  });
});
