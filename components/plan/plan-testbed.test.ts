import { netmapConfigureArgs } from "./netmap-build";
import { planTestbed } from "./plan-testbed";
import { planToJson } from "./plan-json";
import { qemuConfigureArgs } from "./qemu-build";
import { renderPlanTree } from "./render-tree";
import { paperModel, testHost, testModel } from "../../test/support/plan-test-model";
import type { HostPlan } from "./types";

const plan = planTestbed(paperModel());

function host(name: string): HostPlan {
  const found = plan.hosts.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no host ${name}`);
  return found;
}

function vm(hostName: string, vmName: string) {
  const found = host(hostName).vms.find((candidate) => candidate.name === vmName);
  if (!found) throw new Error(`no vm ${vmName}`);
  return found;
}

describe("planTestbed on the paper's three setups", () => {
  it("QEMU argv per VM", () => {
    const argv = Object.fromEntries(plan.hosts.flatMap((h) => h.vms.map((v) => [v.name, v.qemuArgs])));
    expect(argv).toMatchSnapshot();
  });

  it("netmap configure args for Debian 12 and an unlisted kernel, QEMU configure args", () => {
    const build = host("h1").netmapBuild;
    const qemu = host("h1").qemuBuild;
    if (!qemu) throw new Error("h1 runs VMs");
    expect({
      debian12: netmapConfigureArgs(build, { kernelRelease: "6.1.0-50-amd64", sourceDir: "/src/netmap" }),
      ubuntu2404: netmapConfigureArgs(build, { kernelRelease: "6.8.0-51-generic", sourceDir: "/src/netmap" }),
      qemu: qemuConfigureArgs(qemu, "/var/lib/netmap-testbed/netmap/src/"),
    }).toMatchSnapshot();
  });

  it("rendered tree", () => {
    expect(renderPlanTree(plan)).toMatchSnapshot();
  });

  it("VM↔NIC: passes the NIC's netmap port and swaps only the test NICs' drivers", () => {
    const args = vm("h1", "vm-nic").qemuArgs;
    expect(args).toContain("netmap,id=nm0,ifname=netmap:ens1f0,passthrough=on");
    expect(args).toContain("ptnet-pci,netdev=nm0,mac=52:54:00:00:00:01");
    expect(host("h1").netmapLoad.patchedDrivers).toEqual(["i40e", "ixgbe"]);
    expect(host("h1").netmapLoad.managementInterface).toBe("eno1");
    expect(host("h3").netmapLoad.patchedNics).toEqual([]);
  });

  it("VM↔VM over VALE: each VM's QEMU opens its own port, which no step creates", () => {
    expect(vm("h1", "vm-a").qemuArgs).toContain("netmap,id=nm0,ifname=vale0:va,passthrough=on");
    expect(host("h1").switches[0].ports).toEqual([
      expect.objectContaining({ name: "va", attachedName: "vale0:va", vm: "vm-a" }),
      expect.objectContaining({ name: "vb", attachedName: "vale0:vb", vm: "vm-b" }),
    ]);
    const order = host("h1").steps.map((step) => step.id);
    expect(order.filter((id) => id.startsWith("vale-port:"))).toEqual([]);
    expect(order.indexOf("netmap-load")).toBeLessThan(order.indexOf("vm:vm-a"));
  });

  it("VM↔VM over a pipe: master and slave ends, hugepage-backed memory", () => {
    expect(vm("h2", "vm-c").qemuArgs).toContain("netmap,id=nm0,ifname=netmap:chain0{1,passthrough=on");
    expect(vm("h2", "vm-d").qemuArgs).toContain("netmap,id=nm0,ifname=netmap:chain0}1,passthrough=on");
    expect(vm("h2", "vm-c").qemuArgs).toContain(
      "memory-backend-file,id=mem0,size=2048M,mem-path=/var/lib/netmap-testbed/hugepages-1G,share=on,prealloc=on",
    );
    expect(host("h2").pipes).toEqual([
      {
        name: "chain0",
        ends: [
          { vm: "vm-c", id: 1, end: "master", portName: "netmap:chain0{1" },
          { vm: "vm-d", id: 1, end: "slave", portName: "netmap:chain0}1" },
        ],
      },
    ]);
    expect(host("h2").steps.find((step) => step.id === "vm:vm-c")?.dependsOn).toEqual(
      expect.arrayContaining(["hugepages", "pipe:chain0", "qemu-build", "image:debian12", "netmap-load"]),
    );
  });

  it("builds QEMU only on hosts with VMs, after netmap's sources are fetched", () => {
    expect(host("h3").qemuBuild).toBeUndefined();
    expect(host("h3").steps.map((step) => step.id)).not.toContain("qemu-build");
    expect(host("h1").steps.find((step) => step.id === "qemu-build")?.dependsOn).toEqual(["netmap-fetch"]);
    expect(host("h1").qemuBuild?.binary).toMatch(
      /^\/opt\/netmap-testbed\/qemu\/[0-9a-f]{16}\/bin\/qemu-system-x86_64$/,
    );
  });

  it("orders the netmap chain and runs the VM under its unit with its files", () => {
    const order = host("h2").steps.map((step) => step.id);
    expect(order.slice(0, 8)).toEqual([
      "scripts",
      "hugepages",
      "netmap-prepare",
      "netmap-fetch",
      "netmap-build",
      "netmap-install",
      "netmap-load",
      "netmap-persist",
    ]);
    expect(vm("h2", "vm-c").paths).toEqual({
      dir: "/var/lib/netmap-testbed/vms/vm-c",
      kernel: "/var/lib/netmap-testbed/vms/vm-c/vmlinuz",
      initrd: "/var/lib/netmap-testbed/vms/vm-c/initrd.img",
      overlay: "/var/lib/netmap-testbed/vms/vm-c/overlay.qcow2",
      seed: "/var/lib/netmap-testbed/vms/vm-c/seed.img",
      serialLog: "/var/lib/netmap-testbed/vms/vm-c/console.log",
      qmpSocket: "/var/lib/netmap-testbed/vms/vm-c/qmp.sock",
      pidFile: "/var/lib/netmap-testbed/vms/vm-c/qemu.pid",
      unit: "netmap-testbed-vm-vm-c.service",
    });
  });

  it("gives each VM on a host its own SSH forward port", () => {
    expect(host("h1").vms.map((v) => v.sshForwardPort)).toEqual([10022, 10023, 10024]);
    expect(host("h2").vms.map((v) => v.sshForwardPort)).toEqual([10022, 10023]);
  });

  it("refuses VMs without qemu settings", () => {
    const model = paperModel();
    expect(() => planTestbed({ ...model, qemu: undefined })).toThrow(/no qemu settings/);
  });

  it("plans a host with nothing on it", () => {
    const bare = planTestbed(testModel({ hosts: [testHost("solo")] }));
    expect(bare.hosts[0].steps.map((step) => step.id)).toEqual([
      "scripts",
      "netmap-prepare",
      "netmap-fetch",
      "netmap-build",
      "netmap-install",
      "netmap-load",
      "netmap-persist",
    ]);
  });
});

describe("planToJson", () => {
  const json = planToJson(plan);

  it("has hosts as an array, each with name and vms, each VM with name and its exact argv", () => {
    expect(json.name).toBe("paper-2015");
    expect(json.sourceFile).toBe("stacks/topologies/paper-2015.yaml");
    expect(json.hosts.map((h) => h.name)).toEqual(["h1", "h2", "h3"]);
    expect(json.hosts[0].vms.map((v) => v.name)).toEqual(["vm-nic", "vm-a", "vm-b"]);
    expect(json.hosts[0].vms[1].qemuArgs).toEqual(vm("h1", "vm-a").qemuArgs);
    expect(json.hosts[2].vms).toEqual([]);
  });

  it("survives JSON serialisation unchanged", () => {
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe("planTestbed: QEMU's build dependencies", () => {
  it("are installed by default and left to the host when the topology says so", () => {
    const model = paperModel();
    const qemu = model.qemu;
    if (!qemu) throw new Error("the paper's model runs VMs");
    expect(planTestbed(model).hosts[0].qemuBuild?.installBuildDeps).toBe(true);
    const managed = planTestbed({ ...model, qemu: { ...qemu, installBuildDeps: false } });
    expect(managed.hosts[0].qemuBuild?.installBuildDeps).toBe(false);
    // The build itself is the same: the same key, the same prefix.
    expect(managed.hosts[0].qemuBuild?.configKey).toBe(planTestbed(model).hosts[0].qemuBuild?.configKey);
  });
});
