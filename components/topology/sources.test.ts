import { checkDownloadUrl, checkDriverVersion, checkGitUrl, checkLocalPath, checkRef } from "./sources";

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

  it("local paths are absolute", () => {
    expect(checkLocalPath("/srv/netmap.tar.gz")).toBeUndefined();
    expect(checkLocalPath("srv/netmap.tar.gz")).toBeDefined();
    expect(checkLocalPath("/srv/../etc")).toBeDefined();
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
