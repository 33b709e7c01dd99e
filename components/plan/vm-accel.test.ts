import { argvForAccel } from "./vm";

describe("argvForAccel", () => {
  const planned = [
    "/opt/netmap-testbed/qemu/k/bin/qemu-system-x86_64",
    "-name",
    "vm1,debug-threads=on",
    "-machine",
    "q35,accel=kvm,kernel_irqchip=on",
    "-cpu",
    "host",
    "-netdev",
    "netmap,id=nm0,ifname=vale0:p1,passthrough=on",
    "-device",
    "ptnet-pci,netdev=nm0,mac=52:54:00:00:00:01",
  ];

  it("leaves the planner's argv as it is under KVM", () => {
    expect(argvForAccel(planned, "kvm")).toEqual(planned);
  });

  it("changes exactly the accelerator and the CPU model under TCG", () => {
    const tcg = argvForAccel(planned, "tcg");
    expect(tcg.filter((arg, i) => arg !== planned[i])).toEqual(["q35,accel=tcg", "max"]);
    expect(tcg).toHaveLength(planned.length);
  });

  it("touches a value only after its own flag", () => {
    const odd = ["qemu", "-name", "host", "-machine", "pc,accel=kvm,kernel_irqchip=on,smm=off"];
    expect(argvForAccel(odd, "tcg")).toEqual(["qemu", "-name", "host", "-machine", "pc,accel=tcg,smm=off"]);
  });
});
