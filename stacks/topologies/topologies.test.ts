/**
 * The example topologies are part of the product: each must load cleanly, pin what it builds and
 * boots, and show what it claims.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isScalar, parseDocument, visit } from "yaml";
import { checkTopology, type SourceSpec, type TopologyModel } from "../../components/topology";
import { placeholderReason } from "../../components/topology/digests";
import { loadShippedTopology as load } from "../../test/support/shipped-topologies";

const files = readdirSync(__dirname)
  .filter((name) => name.endsWith(".yaml"))
  .sort();

const text = (name: string): string => readFileSync(join(__dirname, name), "utf8");

/** Every `sha256:`/`sha512:` value in the file, wherever it sits. */
function digestsIn(name: string): { algorithm: "sha256" | "sha512"; hex: string }[] {
  const found: { algorithm: "sha256" | "sha512"; hex: string }[] = [];
  visit(parseDocument(text(name)), {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) return;
      const key = String(pair.key.value);
      if (key === "sha256" || key === "sha512") {
        found.push({ algorithm: key, hex: pair.value.source ?? String(pair.value.value) });
      }
    },
  });
  return found;
}

const FULL_COMMIT = /^[0-9a-f]{40}$/;

describe("example topologies", () => {
  it("include the three documented examples", () => {
    expect(files).toEqual(expect.arrayContaining(["host-only.yaml", "local.yaml", "paper-2015.yaml"]));
  });

  it.each(files)("%s is valid as shipped", (name) => {
    const { model, issues } = checkTopology(text(name), name);
    expect(issues).toEqual([]);
    expect(model?.name).toBe(name.replace(/\.yaml$/, ""));
  });

  it.each(files)("%s pins every git source to a full commit", (name) => {
    const model = load(name);
    const sources = [model.netmap.source, ...(model.qemu ? [model.qemu.source] : [])];
    for (const source of sources) {
      if (source.kind === "git") expect(source.ref).toMatch(FULL_COMMIT);
    }
  });

  it("all pin the same netmap and ptnet QEMU commits: the ones this project's lab builds and runs", () => {
    const refs = (pick: (model: TopologyModel) => SourceSpec | undefined): Set<string> =>
      new Set(
        files.flatMap((name) => {
          const source = pick(load(name));
          return source?.kind === "git" ? [source.ref] : [];
        }),
      );
    expect([...refs((model) => model.netmap.source)]).toHaveLength(1);
    expect([...refs((model) => model.qemu?.source)]).toHaveLength(1);
  });

  it.each(files)("%s has no placeholder digest", (name) => {
    const placeholders = digestsIn(name).filter(({ algorithm, hex }) => placeholderReason(algorithm, hex));
    expect(placeholders).toEqual([]);
  });

  it.each(files)("%s pins every image to a dated URL, not latest/ (which moves under a pin)", (name) => {
    for (const image of load(name).images)
      if (image.kind === "url") expect(image.url).not.toContain("/latest/");
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
