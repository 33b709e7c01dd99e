import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  checkDownloadUrl,
  checkDriverVersion,
  checkGitUrl,
  checkHostPath,
  checkRef,
  resolveControllerPath,
} from "./sources";

describe("sources", () => {
  it("git URLs: https, ssh, git, scp-like and a file:/// mirror on each host", () => {
    for (const ok of [
      "https://github.com/luigirizzo/netmap.git",
      "ssh://git@example.org/netmap.git",
      "git://example.org/netmap.git",
      "git@github.com:luigirizzo/netmap.git",
      "file:///srv/netmap",
    ]) {
      expect(checkGitUrl(ok)).toBeUndefined();
    }
    for (const bad of [
      "github.com/luigirizzo/netmap",
      "http://example.org/n.git",
      "file://srv/netmap",
      "/srv/netmap",
    ]) {
      expect(checkGitUrl(bad)).toContain("not a git URL");
    }
  });

  it("refs cannot look like options", () => {
    for (const ok of ["master", "v11.4", "release/2019-02", "0a02ad000071c7e7012985375113098ca24161d7"]) {
      expect(checkRef(ok)).toBeUndefined();
    }
    for (const bad of ["-x", "--upload-pack=x", "a..b", "has space", "x/"])
      expect(checkRef(bad)).toBeDefined();
  });

  it("controller paths: relative to the topology file, a tarball or a directory that exists", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-src-"));
    try {
      fs.mkdirSync(path.join(dir, "topologies"));
      fs.mkdirSync(path.join(dir, "netmap"));
      fs.writeFileSync(path.join(dir, "netmap.tgz"), "");
      fs.writeFileSync(path.join(dir, "notes.txt"), "");
      const file = path.join(dir, "topologies", "t.yaml");
      expect(resolveControllerPath("../netmap.tgz", file)).toEqual({ path: path.join(dir, "netmap.tgz") });
      expect(resolveControllerPath(path.join(dir, "netmap"), file)).toEqual({
        path: path.join(dir, "netmap"),
      });
      const missing = resolveControllerPath("../nope.tgz", file);
      expect(missing).toEqual({ error: expect.stringContaining("does not exist on this machine") });
      expect(missing).toEqual({ error: expect.stringContaining(path.join(dir, "nope.tgz")) });
      expect(missing).toEqual({ error: expect.stringContaining("hostPath:") });
      expect(resolveControllerPath("../notes.txt", file)).toEqual({
        error: expect.stringContaining("neither a directory nor"),
      });
      expect(resolveControllerPath("../has space.tgz", file)).toEqual({
        error: expect.stringContaining("must resolve to an absolute path"),
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("host paths are absolute", () => {
    expect(checkHostPath("/srv/netmap.tar.gz")).toBeUndefined();
    expect(checkHostPath("srv/netmap.tar.gz")).toBeDefined();
    expect(checkHostPath("/srv/../etc")).toBeDefined();
  });

  it("image URLs", () => {
    expect(checkDownloadUrl("https://cloud.debian.org/x.qcow2")).toBeUndefined();
    expect(checkDownloadUrl("http://mirror.lab/x.qcow2")).toBeUndefined();
    expect(checkDownloadUrl("ftp://mirror.lab/x.qcow2")).toBeDefined();
    expect(checkDownloadUrl("not a url")).toBeDefined();
  });

  it("driver versions", () => {
    expect(checkDriverVersion("6.1.6")).toBeUndefined();
    expect(checkDriverVersion("2.28")).toBeUndefined();
    expect(checkDriverVersion("6")).toBeDefined();
    expect(checkDriverVersion("v6.1")).toBeDefined();
  });
});
