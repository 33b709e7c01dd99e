/** The example topologies are part of the product: each must load cleanly and show what it claims. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadTopology, type TopologyModel } from "../../components/topology";

const files = readdirSync(__dirname)
  .filter((name) => name.endsWith(".yaml"))
  .sort();

function load(name: string): TopologyModel {
  return loadTopology(join(__dirname, name));
}

describe("example topologies", () => {
  it("include the three documented examples", () => {
    expect(files).toEqual(expect.arrayContaining(["host-only.yaml", "local.yaml", "paper-2015.yaml"]));
  });

  it.each(files)("%s is valid", (name) => {
    const model = load(name);
    expect(model.name).toBe(name.replace(/\.yaml$/, ""));
  });

  it("paper-2015 has the paper's three setups on two bare-metal hosts", () => {
    const model = load("paper-2015.yaml");
    expect(model.hosts.map((host) => [host.name, host.access.kind])).toEqual([
      ["h1", "remote"],
      ["h2", "remote"],
    ]);
    expect(model.netmap.drivers).toEqual(["ixgbe"]);
    const kinds = (trust: string, kind: string): string[] =>
      model.vms
        .filter((vm) => vm.trust === trust && vm.nics.some((nic) => nic.kind === kind))
        .map((vm) => vm.name);
    expect(kinds("trusted", "nic")).toHaveLength(1);
    expect(kinds("untrusted", "vale")).toHaveLength(2);
    const pipeEnds = model.vms.flatMap((vm) => vm.nics).filter((nic) => nic.kind === "pipe");
    expect(pipeEnds.map((nic) => (nic.kind === "pipe" ? nic.end : "")).sort()).toEqual(["master", "slave"]);
  });

  it("host-only has a switch and a pipe but no VMs", () => {
    const model = load("host-only.yaml");
    expect(model.vms).toHaveLength(0);
    expect(model.switches).toHaveLength(1);
    expect(model.pipes).toHaveLength(1);
    expect(model.qemu).toBeUndefined();
  });

  it("local runs everything on local-lab hosts", () => {
    const model = load("local.yaml");
    expect(model.hosts.every((host) => host.access.kind === "localLab")).toBe(true);
    expect(model.netmap.drivers).toEqual([]);
    expect(model.vms.length).toBeGreaterThanOrEqual(2);
  });
});
