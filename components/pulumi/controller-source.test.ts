/**
 * Controller sources as they go to the hosts, and what the hosts' fetch.sh makes of them (the
 * script runs here, with its cache in a temporary directory).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stageControllerSource, stageModelSources } from "./controller-source";
import { planTestbed } from "../plan";
import { loadShippedTopology } from "../../test/support/shipped-topologies";

const fetchScript = path.resolve(__dirname, "../../kernel-builds/netmap/fetch.sh");
const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

describe("stageControllerSource", () => {
  let work: string;
  let cache: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-stage-"));
    cache = path.join(work, "cache");
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  function fetched(archive: string): Record<string, unknown> {
    const r = spawnSync("bash", [fetchScript, "--path", archive], {
      env: {
        ...process.env,
        NMTB_CACHE_DIR: path.join(work, "host-cache"),
        NMTB_STATE_DIR: path.join(work, "state"),
      },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Record<string, unknown>;
  }

  it("packs a directory into the same bytes every time, without .git, and keys it by them", () => {
    const dir = path.join(work, "netmap");
    fs.mkdirSync(path.join(dir, "sys", "net"), { recursive: true });
    fs.writeFileSync(path.join(dir, "sys", "net", "netmap.h"), "/* 1 */\n");
    const first = stageControllerSource(dir, cache);
    fs.utimesSync(path.join(dir, "sys", "net", "netmap.h"), new Date(), new Date(Date.now() + 5000));
    expect(stageControllerSource(dir, cache)).toEqual(first);
    expect(first.archive).toBe(path.join(cache, `${first.sha256}.tar.gz`));
    expect(first.commit).toBeUndefined();
    fs.writeFileSync(path.join(dir, "sys", "net", "netmap.h"), "/* 2 */\n");
    expect(stageControllerSource(dir, cache).sha256).not.toBe(first.sha256);
    const listing = execFileSync("tar", ["-tzf", first.archive], { encoding: "utf8" });
    expect(listing.split("\n")).toEqual(expect.arrayContaining(["netmap/sys/net/netmap.h"]));
  });

  it("carries a clean checkout's commit to the hosts, and only a clean one's", () => {
    const dir = path.join(work, "netmap");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "configure"), "#!/bin/sh\n");
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "one");
    const head = git(dir, "rev-parse", "HEAD");
    const clean = stageControllerSource(dir, cache);
    expect(clean.commit).toBe(head);
    expect(execFileSync("tar", ["-tzf", clean.archive], { encoding: "utf8" })).not.toContain(".git");
    expect(fetched(clean.archive)).toMatchObject({ kind: "tarball", upstreamCommit: head });
    // Recorded on the host for the playbooks' provenance manifest.
    expect(
      JSON.parse(fs.readFileSync(path.join(work, "state", "netmap", "source.json"), "utf8")),
    ).toMatchObject({ upstreamCommit: head });
    fs.writeFileSync(path.join(dir, "configure"), "#!/bin/sh\nexit 1\n");
    const dirty = stageControllerSource(dir, cache);
    expect(dirty.commit).toBeUndefined();
    expect(fetched(dirty.archive)).toMatchObject({ kind: "tarball", upstreamCommit: null });
  });

  it("packs an unchanged directory only once, and an edited one again", () => {
    const dir = path.join(work, "qemu");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "configure"), "#!/bin/sh\n");
    const first = stageControllerSource(dir, cache);
    const inode = fs.statSync(first.archive).ino;
    expect(stageControllerSource(dir, cache)).toEqual(first);
    expect(fs.statSync(first.archive).ino).toBe(inode); // the same file, not a new pack
    fs.writeFileSync(path.join(dir, "configure"), "#!/bin/sh\nexit 0\n");
    expect(stageControllerSource(dir, cache).sha256).not.toBe(first.sha256);
    // An archive removed behind the cache's back is packed again, not trusted from its name.
    fs.writeFileSync(path.join(dir, "configure"), "#!/bin/sh\n");
    fs.rmSync(first.archive);
    expect(stageControllerSource(dir, cache)).toEqual(first);
  });

  it("takes a tarball as it is, and refuses other files", () => {
    const tarball = path.join(work, "netmap.tgz");
    fs.writeFileSync(tarball, "bytes");
    expect(stageControllerSource(tarball, cache)).toEqual({
      archive: tarball,
      sha256: createHash("sha256").update("bytes").digest("hex"),
      ext: "tgz",
    });
    expect(fs.existsSync(cache)).toBe(false);
    const notes = path.join(work, "notes.txt");
    fs.writeFileSync(notes, "");
    expect(() => stageControllerSource(notes, cache)).toThrow(/neither a directory nor/);
  });
});

describe("stageModelSources", () => {
  let work: string;
  beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-stage-model-"))));
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("keys QEMU's build by the source's contents: an edit gives another prefix", () => {
    const qemuDir = path.join(work, "qemu");
    fs.mkdirSync(qemuDir);
    fs.writeFileSync(path.join(qemuDir, "configure"), "#!/bin/sh\n");
    const shipped = loadShippedTopology("local.yaml");
    const model = { ...shipped, qemu: { source: { kind: "path", path: qemuDir } as const } };
    const qemuPlan = () => {
      const staged = stageModelSources(model, path.join(work, "cache"));
      expect(staged.model.qemu?.source).toEqual({
        kind: "path",
        path: qemuDir,
        sha256: staged.staged.qemu?.sha256,
      });
      return planTestbed(staged.model).hosts.find((host) => host.qemuBuild)?.qemuBuild;
    };
    const before = qemuPlan();
    expect(qemuPlan()?.prefix).toBe(before?.prefix);
    fs.writeFileSync(path.join(qemuDir, "configure"), "#!/bin/sh\n# patched\n");
    expect(qemuPlan()?.prefix).not.toBe(before?.prefix);
  });

  it("leaves git sources alone and stages nothing for a testbed without VMs", () => {
    const shipped = loadShippedTopology("local.yaml");
    const noVms = {
      ...shipped,
      vms: [],
      qemu: { source: { kind: "path", path: path.join(work, "absent") } as const },
    };
    const staged = stageModelSources(noVms, path.join(work, "cache"));
    expect(staged.staged).toEqual({});
    expect(staged.model.netmap.source).toEqual(shipped.netmap.source);
  });
});
