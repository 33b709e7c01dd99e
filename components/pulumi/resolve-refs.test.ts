/** Ref resolution against real git repositories made here (file:// URLs, as a lab mirror would be). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commitForRef, parseLsRemote, pinSource, resolveGitRef } from "./resolve-refs";

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], {
    cwd,
    encoding: "utf8",
  }).trim();

describe("resolveGitRef", () => {
  let repo: string;
  let first: string;
  let second: string;
  beforeAll(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-refs-"));
    git(repo, "init", "-q", "-b", "master");
    fs.writeFileSync(path.join(repo, "a"), "1");
    git(repo, "add", "a");
    git(repo, "commit", "-qm", "one");
    first = git(repo, "rev-parse", "HEAD");
    git(repo, "tag", "-a", "v1", "-m", "annotated");
    git(repo, "tag", "light");
    fs.writeFileSync(path.join(repo, "a"), "2");
    git(repo, "commit", "-qam", "two");
    second = git(repo, "rev-parse", "HEAD");
  });
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  it("takes a full commit as it is, without asking anyone", () => {
    expect(resolveGitRef("https://unreachable.invalid/x.git", first)).toEqual({
      kind: "commit",
      commit: first,
      from: "pinned",
    });
  });

  it("resolves a branch, an annotated tag (to its commit) and a light tag", () => {
    const url = `file://${repo}`;
    expect(resolveGitRef(url, "master")).toEqual({ kind: "commit", commit: second, from: "ls-remote" });
    expect(resolveGitRef(url, "v1")).toMatchObject({ commit: first });
    expect(resolveGitRef(url, "light")).toMatchObject({ commit: first });
  });

  it("is an error when the repository answers without the ref", () => {
    expect(() => resolveGitRef(`file://${repo}`, "no-such-branch")).toThrow(
      /ref "no-such-branch" is not a branch or tag/,
    );
  });

  it("leaves the ref to the hosts when the repository cannot be asked from here", () => {
    const resolution = resolveGitRef(`file://${repo}-missing`, "master");
    expect(resolution).toMatchObject({ kind: "unresolved" });
    expect(pinSource({ kind: "git", git: "u", ref: "master" }, resolution)).toEqual({
      kind: "git",
      git: "u",
      ref: "master",
    });
  });

  it("pins only git sources, to the resolved commit", () => {
    const resolved = { kind: "commit", commit: second, from: "ls-remote" } as const;
    expect(pinSource({ kind: "git", git: "u", ref: "master" }, resolved)).toEqual({
      kind: "git",
      git: "u",
      ref: second,
    });
    expect(pinSource({ kind: "hostPath", path: "/srv/x" }, resolved)).toEqual({
      kind: "hostPath",
      path: "/srv/x",
    });
  });
});

describe("ls-remote parsing", () => {
  it("prefers a branch, then a peeled tag", () => {
    const a = "a".repeat(40);
    const b = "b".repeat(40);
    const c = "c".repeat(40);
    const refs = parseLsRemote(`${a}\trefs/heads/x\n${b}\trefs/tags/x\n${c}\trefs/tags/x^{}\n`);
    expect(commitForRef(refs, "x")).toBe(a);
    refs.delete("refs/heads/x");
    expect(commitForRef(refs, "x")).toBe(c);
    expect(commitForRef(refs, "y")).toBeUndefined();
  });
});
