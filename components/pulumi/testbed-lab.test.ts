/**
 * Wiring of a local lab with sources on this machine (the shipped local.yaml with `source: { path }`
 * for netmap and QEMU): the controller packs and uploads the sources, builds netmap and QEMU in the
 * lab image's root, and the lab host's build steps wait for those builds and look them up in the
 * same artifact cache. The scripts' own behaviour is tested on real hosts (native-build.test.ts,
 * engine-vms.test.ts); this is what the components hand them.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  resourceNamed,
  runMockedProgram,
  unwrapSecrets,
  urnName,
  type RegisteredResource,
} from "../../test/support/pulumi-harness";
import { FAKE_KERNEL_RELEASE, fakeStepResource } from "../../test/support/fake-steps";
import { loadShippedTopology } from "../../test/support/shipped-topologies";
import type { TopologyModel } from "../topology/model";
import { Testbed } from "./testbed";

interface StepInputs {
  create: { argv: string[] };
  triggers: string[];
  builtOn: string[];
  share?: { key: string; cacheDir?: string; import: { argv: string[] } };
  upload?: { localPath: string; sha256: string; remotePath: string };
}

const inputs = (resources: readonly RegisteredResource[], name: string): StepInputs =>
  unwrapSecrets(resourceNamed(resources, name).inputs) as unknown as StepInputs;
const dependsOn = (resources: readonly RegisteredResource[], name: string): string[] =>
  resourceNamed(resources, name).dependencies.map(urnName);
const builtOn = (resources: readonly RegisteredResource[], name: string): string[] =>
  (resourceNamed(resources, name).propertyDependencies.builtOn ?? []).map(urnName);

describe("Testbed on a local lab with sources on this machine", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-lab-wiring-"));
  const artifacts = path.join(work, "artifacts");
  const netmapDir = path.join(work, "netmap");
  const qemuTarball = path.join(work, "qemu.tar.gz");
  let lab: TopologyModel;
  let resources: RegisteredResource[];
  let withoutNative: RegisteredResource[];
  const saved = { ...process.env };

  beforeAll(async () => {
    process.env.NMTB_ARTIFACT_CACHE_DIR = artifacts;
    process.env.NMTB_SOURCE_CACHE_DIR = path.join(work, "sources");
    fs.mkdirSync(path.join(netmapDir, "sys", "net"), { recursive: true });
    fs.writeFileSync(path.join(netmapDir, "sys", "net", "netmap.h"), "/* stand-in */\n");
    fs.writeFileSync(qemuTarball, "stand-in tarball bytes");
    const shipped = loadShippedTopology("local.yaml");
    lab = {
      ...shipped,
      netmap: { ...shipped.netmap, source: { kind: "path", path: netmapDir } },
      qemu: { source: { kind: "path", path: qemuTarball }, installBuildDeps: true },
    };
    resources = await runMockedProgram(() => {
      new Testbed("local", { topology: lab });
    }, fakeStepResource);
    withoutNative = await runMockedProgram(() => {
      new Testbed("local", { topology: lab, nativeLabBuilds: false });
    }, fakeStepResource);
  });

  afterAll(() => {
    process.env = saved;
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("packs the netmap directory once, uploads it, and fetches the host's cached copy", () => {
    const upload = inputs(resources, "local-lab1-netmap-source-upload");
    expect(upload.upload?.localPath).toMatch(
      new RegExp(`^${path.join(work, "sources")}/[0-9a-f]{64}\\.tar\\.gz$`),
    );
    const sha = upload.upload?.sha256 ?? "";
    expect(upload.triggers).toEqual([sha]);
    expect(upload.create.argv).toEqual(
      expect.arrayContaining([
        "store",
        "--sha256",
        sha,
        "--ext",
        "tar.gz",
        "--from",
        upload.upload?.remotePath,
      ]),
    );
    const fetch = inputs(resources, "local-lab1-netmap-fetch");
    expect(fetch.create.argv.slice(-2)).toEqual([
      "--path",
      `/var/cache/netmap-testbed/sources/${sha}.tar.gz`,
    ]);
    expect(builtOn(resources, "local-lab1-netmap-fetch")).toContain("local-lab1-netmap-source-upload");
  });

  it("uploads a QEMU tarball as it is, keyed by its digest", () => {
    const upload = inputs(resources, "local-lab1-qemu-source-upload");
    expect(upload.upload?.localPath).toBe(qemuTarball);
    expect(upload.create.argv).toEqual(expect.arrayContaining(["--ext", "tar.gz"]));
    expect(builtOn(resources, "local-lab1-qemu-build")).toContain("local-lab1-qemu-source-upload");
  });

  it("builds netmap in the lab image's root with the host build's own arguments", () => {
    const native = inputs(resources, "local-lab1-native-netmap");
    const argv = native.create.argv;
    expect(argv.slice(0, 3)).toEqual(["bash", "kernel-builds/lab/native-build.sh", "netmap"]);
    expect(argv).toEqual(expect.arrayContaining(["--disk", "/img/disk.img", "--out", artifacts]));
    const [fetchArgs, buildArgs] = [argv.indexOf("--"), argv.lastIndexOf("--")];
    const staged = inputs(resources, "local-lab1-netmap-source-upload").upload?.localPath;
    expect(argv.slice(fetchArgs + 1, buildArgs)).toEqual(["--path", staged]);
    const hostBuild = inputs(resources, "local-lab1-netmap-build").create.argv;
    const hostArgs = hostBuild.slice(hostBuild.indexOf("--config-key"));
    expect(argv.slice(buildArgs + 1)).toEqual(hostArgs);
    expect(hostArgs).toEqual(expect.arrayContaining(["--kernel-release", FAKE_KERNEL_RELEASE]));
  });

  it("has the host's builds wait for the native ones and look in the same artifact cache", () => {
    expect(dependsOn(resources, "local-lab1-netmap-build")).toContain("local-lab1-native-netmap");
    expect(inputs(resources, "local-lab1-netmap-build").share?.cacheDir).toBe(artifacts);
    const qemu = inputs(resources, "local-lab1-qemu-build");
    expect(dependsOn(resources, "local-lab1-qemu-build")).toContain("local-lab1-native-qemu");
    const configKey = qemu.create.argv[qemu.create.argv.indexOf("--config-key") + 1];
    // native-build.sh writes qemu-<configKey>.tgz: the key the host's import looks up.
    expect(qemu.share?.key).toBe(`qemu-${configKey}`);
    expect(qemu.share?.cacheDir).toBe(artifacts);
    expect(qemu.share?.import.argv).toEqual(expect.arrayContaining(["import", "--archive", "-"]));
    const nativeQemu = inputs(resources, "local-lab1-native-qemu").create.argv;
    expect(nativeQemu).toEqual(
      expect.arrayContaining([
        "--config-key",
        configKey,
        "--netmap-source",
        "/var/cache/netmap-testbed/src/tarball-abc",
      ]),
    );
    expect(builtOn(resources, "local-lab1-native-qemu")).toEqual(["local-lab1-native-netmap"]);
  });

  it("runs the VMs of a lab host under TCG when the lab host itself has no hardware KVM, and waits longer for them", () => {
    for (const vm of ["guest1", "guest2"]) {
      const argv = inputs(resources, `local-lab1-${vm}-vm`).create.argv;
      const qemu = argv.slice(argv.indexOf("--") + 1);
      // Emulated inside an emulated host: far beyond the 300 s a guest gets under KVM.
      expect(Number(argv[argv.indexOf("--wait-ssh") + 1])).toBeGreaterThanOrEqual(1800);
      expect(qemu[qemu.indexOf("-machine") + 1]).toBe("q35,accel=tcg");
      expect(qemu[qemu.indexOf("-cpu") + 1]).toBe("max");
      expect(qemu.filter((a) => a.startsWith("ptnet-pci,")).length).toBeGreaterThan(0);
    }
  });

  it("builds on the lab host itself when asked not to build here", () => {
    // Only the guests' netmap is built here: their recipe image is this machine's own build.
    expect(withoutNative.filter((r) => r.type.endsWith(":NativeBuild")).map((r) => r.name)).toEqual([
      "local-image-lab-native-netmap",
    ]);
    expect(dependsOn(withoutNative, "local-lab1-netmap-build")).not.toContain("local-lab1-native-netmap");
  });
});

describe("Testbed resolves a branch once for the whole deployment", () => {
  it("gives every host step and guest the branch's commit, and says so in `sources`", async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-branch-"));
    try {
      const git = (...args: string[]): string =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], {
          cwd: repo,
          encoding: "utf8",
        }).trim();
      git("init", "-q", "-b", "master");
      fs.writeFileSync(path.join(repo, "configure"), "#!/bin/sh\n");
      git("add", ".");
      git("commit", "-qm", "one");
      const head = git("rev-parse", "HEAD");
      const shipped = loadShippedTopology("local.yaml");
      const topology: TopologyModel = {
        ...shipped,
        netmap: { ...shipped.netmap, source: { kind: "git", git: `file://${repo}`, ref: "master" } },
      };
      let testbed: Testbed | undefined;
      const resources = await runMockedProgram(() => {
        testbed = new Testbed("local", { topology, nativeLabBuilds: false });
      }, fakeStepResource);
      const fetch = inputs(resources, "local-lab1-netmap-fetch").create.argv;
      expect(fetch.slice(-4)).toEqual(["--git", `file://${repo}`, "--ref", head]);
      // The guests' netmap, built here for their image's kernel, is the same commit.
      const guests = inputs(resources, "local-image-lab-native-netmap").create.argv;
      expect(guests.slice(guests.indexOf("--") + 1, guests.lastIndexOf("--"))).toEqual([
        "--git",
        `file://${repo}`,
        "--ref",
        head,
      ]);
      expect(testbed?.sources.netmap).toEqual({
        kind: "git",
        location: `file://${repo}`,
        ref: "master",
        commit: head,
      });
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});
