import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { checkTopology, loadTopology, parseTopology, TopologyError } from "./index";
import { TEST_SHA256, TEST_SHA512 } from "../../test/support/test-digests";
import { baseDoc, KEY_H1, problems, vm } from "../../test/support/topology-test-fixtures";

describe("parseTopology", () => {
  it("returns the model with every default applied", () => {
    const model = parseTopology(stringify(baseDoc()), "t.yaml");
    expect(model.apiVersion).toBe("netmap-testbed/v1");
    expect(model.sourceFile).toBe("t.yaml");
    expect(model.netmap).toEqual({
      source: { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref: "master" },
      drivers: ["ixgbe"],
      driverVersions: {},
      params: {},
    });
    expect(model.images).toEqual([
      {
        kind: "url",
        name: "debian12",
        url: "https://example.org/d.qcow2",
        digest: { algorithm: "sha256", hex: TEST_SHA256 },
        os: "linux",
      },
    ]);
    expect(model.hosts[0]).toEqual({
      name: "h1",
      access: { kind: "remote", address: "192.0.2.11", port: 22, user: "root", hostKey: KEY_H1 },
      managementInterface: "eno1",
      nics: [
        { name: "p0", interface: "ens1f0", driver: "ixgbe" },
        { name: "p1", interface: "ens1f1", driver: "ixgbe" },
      ],
    });
    expect(model.switches).toEqual([
      { name: "vale0", host: "h1", ports: [{ name: "a" }, { name: "b" }], uplinks: [], hostStack: false },
    ]);
    expect(model.pipes).toEqual([{ name: "chain0", host: "h1" }]);
    const [vm1] = model.vms;
    expect(vm1).toMatchObject({
      name: "vm1",
      cpus: 2,
      memoryMiB: 2048,
      hugepages: false,
      trust: "untrusted",
    });
    expect(vm1.pin).toBeUndefined();
    expect(vm1.nics).toEqual([
      { kind: "vale", switch: "vale0", port: "a", mac: expect.stringMatching(/^02:/) },
    ]);
  });

  it("applies localLab defaults and reads every NIC kind", () => {
    const doc = baseDoc();
    doc.hosts = {
      lab1: {
        localLab: null,
        managementInterface: "eth0",
        nics: { p0: { interface: "eth1", driver: "virtio_net" } },
      },
    };
    doc.switches = { vale0: { host: "lab1", ports: { a: {}, g: { rings: 2, slots: 2048 } } } };
    doc.pipes = { chain0: { host: "lab1" } };
    doc.vms = {
      vm1: {
        ...vm([
          { switch: "vale0", port: "a", mac: "02-AA-00-00-00-01" },
          { pipe: "chain0", id: 7, end: "slave" },
          { nic: "p0" },
        ]),
        host: "lab1",
        trust: "trusted",
        pin: [1, 0],
      },
    };
    const model = parseTopology(stringify(doc), "t.yaml");
    expect(model.hosts[0].access).toEqual({ kind: "localLab", cpus: 2, memoryMiB: 4096, diskGiB: 8 });
    expect(model.switches[0].ports).toEqual([{ name: "a" }, { name: "g", rings: 2, slots: 2048 }]);
    const nics = model.vms[0].nics;
    expect(nics[0]).toEqual({ kind: "vale", switch: "vale0", port: "a", mac: "02:aa:00:00:00:01" });
    expect(nics[1]).toMatchObject({ kind: "pipe", pipe: "chain0", id: 7, end: "slave" });
    expect(nics[2]).toMatchObject({ kind: "nic", nic: "p0" });
    expect(model.vms[0].pin).toEqual([1, 0]);
  });

  it("throws a TopologyError with every problem, not only the first", () => {
    const doc = baseDoc();
    doc.name = "Bad Name";
    (doc.vms as Record<string, unknown>).vm2 = vm([], { host: "nowhere", cpus: 0 });
    let error: unknown;
    try {
      parseTopology(stringify(doc), "t.yaml");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TopologyError);
    const paths = (error as TopologyError).issues.map((issue) => issue.path);
    expect(paths).toEqual(["name", "vms.vm2.host", "vms.vm2.cpus"]);
  });

  it("keeps number-looking strings as written (refs, versions)", () => {
    const text = stringify(baseDoc())
      .replace("ref: master", "ref: 2019")
      .replace("drivers:\n    - ixgbe", "drivers:\n    - ixgbe\n  driverVersions:\n    ixgbe: 5.10");
    const model = parseTopology(text, "t.yaml");
    expect(model.netmap.source).toMatchObject({ ref: "2019" });
    expect(model.netmap.driverVersions).toEqual({ ixgbe: "5.10" });
  });

  it("resolves YAML aliases", () => {
    const text = stringify(baseDoc()).replace(
      /vms:[\s\S]*$/,
      "vms:\n  vm1: &small\n    host: h1\n    image: debian12\n    cpus: 1\n    memory: 1GiB\n  vm2: *small\n",
    );
    expect(parseTopology(text, "t.yaml").vms.map((v) => v.name)).toEqual(["vm1", "vm2"]);
  });

  it("treats empty optional sections as empty", () => {
    const doc = baseDoc();
    doc.switches = null;
    doc.pipes = null;
    doc.vms = null;
    doc.images = null;
    const model = parseTopology(stringify(doc), "t.yaml");
    expect([model.switches, model.pipes, model.vms, model.images]).toEqual([[], [], [], []]);
  });

  it("pins an image with sha512 or sha256, stored lower-case with its algorithm", () => {
    const doc = baseDoc();
    doc.images = {
      debian12: { url: "https://example.org/d.qcow2", sha512: TEST_SHA512.toUpperCase(), os: "linux" },
      freebsd14: { url: "https://example.org/f.qcow2", sha256: TEST_SHA256, os: "freebsd" },
    };
    const model = parseTopology(stringify(doc), "t.yaml");
    expect(model.images.map((image) => [image.name, image.kind === "url" && image.digest])).toEqual([
      ["debian12", { algorithm: "sha512", hex: TEST_SHA512 }],
      ["freebsd14", { algorithm: "sha256", hex: TEST_SHA256 }],
    ]);
  });

  it("accepts a source already on each host and a host without NICs", () => {
    const doc = baseDoc();
    doc.netmap = { source: { hostPath: "/srv/netmap.tar.gz" } };
    const model = parseTopology(stringify(doc), "t.yaml");
    expect(model.netmap.source).toEqual({ kind: "hostPath", path: "/srv/netmap.tar.gz" });
    expect(model.netmap.drivers).toEqual([]);
  });

  it("reads a controller source relative to the topology file, as an absolute path", () => {
    const dir = mkdtempSync(join(tmpdir(), "nmtb-topo-"));
    try {
      mkdirSync(join(dir, "netmap"));
      const doc = baseDoc();
      doc.netmap = { source: { path: "./netmap" } };
      const model = parseTopology(stringify(doc), join(dir, "t.yaml"));
      expect(model.netmap.source).toEqual({ kind: "path", path: join(dir, "netmap") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads qemu.installBuildDeps (default true) and refuses anything but a boolean", () => {
    expect(parseTopology(stringify(baseDoc()), "t.yaml").qemu?.installBuildDeps).toBe(true);
    const doc = baseDoc();
    doc.qemu = { source: { hostPath: "/srv/qemu" }, installBuildDeps: false };
    expect(parseTopology(stringify(doc), "t.yaml").qemu).toEqual({
      source: { kind: "hostPath", path: "/srv/qemu" },
      installBuildDeps: false,
    });
    doc.qemu = { source: { hostPath: "/srv/qemu" }, installBuildDeps: "no" };
    expect(problems(doc)).toEqual([expect.stringMatching(/^qemu\.installBuildDeps: .*true or false/)]);
  });
});

describe("checkTopology", () => {
  it("never throws and gives a model only when there are no issues", () => {
    expect(checkTopology(stringify(baseDoc()), "t.yaml").model).toBeDefined();
    const broken = checkTopology("apiVersion: netmap-testbed/v1\nname: [", "t.yaml");
    expect(broken.model).toBeUndefined();
    expect(broken.issues[0].message).toContain("YAML syntax error");
  });

  it("a file that is neither YAML nor says it is a topology gets one line, not its syntax errors", () => {
    const readme =
      "# Title\n\nSome prose: with a colon, and more: colons here\n```sh\nnpm run demo\n```\n| a | b |\n";
    const { issues } = checkTopology(readme, "README.md");
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 1, col: 1, path: "$" });
    expect(issues[0].message).toMatch(
      /^not a topology file: .*apiVersion: netmap-testbed\/v1.*give a topology file/,
    );
  });

  it("a syntax error under a line of prose names no prose as a field", () => {
    const text = "apiVersion: netmap-testbed/v1\nSome prose taken as a key: and: more\n";
    const { issues } = checkTopology(text, "t.yaml");
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.path).toBe("$");
  });

  it("reports duplicate keys together with other problems", () => {
    const text = stringify(baseDoc()).replace("name: t\n", "name: t\nname: u\nbogus: 1\n");
    const { issues } = checkTopology(text, "t.yaml");
    expect(issues.map((issue) => `${issue.line}:${issue.col}: ${issue.path}`)).toEqual([
      "3:1: name",
      "4:1: bogus",
    ]);
    expect(issues[0].message).toContain('duplicate key "name"');
  });

  it("reports a missing field at its parent's key", () => {
    const doc = baseDoc();
    delete (doc.hosts as { h1: Record<string, unknown> }).h1.managementInterface;
    const text = stringify(doc);
    const hostLine = text.split("\n").indexOf("  h1:") + 1;
    const { issues } = checkTopology(text, "t.yaml");
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: "hosts.h1.managementInterface", line: hostLine, col: 3 });
    expect(issues[0].message).toContain('needs "managementInterface"');
  });

  it("rejects a document that is not a map", () => {
    expect(problems({ list: 1 } as never)).toContainEqual(expect.stringContaining('unknown key "list"'));
    expect(checkTopology("- a\n- b\n", "t.yaml").issues[0].message).toContain(
      "expected the topology (a map)",
    );
  });
});

describe("loadTopology", () => {
  it("reads the file and names it in messages", () => {
    const dir = mkdtempSync(join(tmpdir(), "topology-"));
    const good = join(dir, "good.yaml");
    const bad = join(dir, "bad.yaml");
    writeFileSync(good, stringify(baseDoc()));
    writeFileSync(bad, "apiVersion: v0\n");
    expect(loadTopology(good).name).toBe("t");
    expect(() => loadTopology(bad)).toThrow(`${bad}:1:13: apiVersion: apiVersion "v0" is not supported`);
  });
});
