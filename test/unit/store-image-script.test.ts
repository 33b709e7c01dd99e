/**
 * kernel-builds/image/store-image.sh, run here with its cache in a temporary directory: a recipe
 * image's archive (as lab/pack-guest-image.sh packs it) is unpacked into the cache only from a
 * checked copy, the upload goes whatever happens, and the cache entry appears whole or not at all.
 * The real archive's way through a host is in test/integration/guest-seed.test.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const script = path.resolve(__dirname, "../../kernel-builds/image/store-image.sh");
const MEMBERS = ["disk.qcow2", "vmlinuz", "initrd.img", "kernel-release"];
let dir: string;

function run(args: string[]): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync("bash", [script, ...args], {
    env: { ...process.env, NMTB_CACHE_DIR: path.join(dir, "cache"), NMTB_ALLOW_NONROOT: "1" },
    encoding: "utf8",
  });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return {
    status: r.status,
    json: last ? (JSON.parse(last) as Record<string, unknown>) : {},
    stderr: r.stderr,
  };
}

/** An archive of `members` (each holding its own name, kernel-release a release) and its digest. */
function upload(members: readonly string[] = MEMBERS): { file: string; sha: string } {
  const src = fs.mkdtempSync(path.join(dir, "src-"));
  for (const member of members) {
    fs.writeFileSync(path.join(src, member), member === "kernel-release" ? "6.1.0-50-amd64\n" : member);
  }
  const file = path.join(dir, `upload-${Math.random().toString(36).slice(2)}.tar`);
  execFileSync("tar", ["-C", src, "-cf", file, ...members]);
  return { file, sha: createHash("sha256").update(fs.readFileSync(file)).digest("hex") };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-store-image-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("store-image.sh", () => {
  it("unpacks a checked upload into the entry of its digest, deletes the upload, and finds it again", () => {
    const { file, sha } = upload();
    const key = ["--sha256", sha];
    expect(run(["check", ...key]).status).toBe(3);
    const stored = run(["store", ...key, "--from", file]);
    expect(stored).toMatchObject({ status: 0, json: { stored: true, kernelRelease: "6.1.0-50-amd64" } });
    const entry = path.join(dir, "cache", "images", `recipe-${sha}`);
    expect(stored.json.dir).toBe(entry);
    // The members, the digest written last, and no copy of the archive left beside them.
    expect(fs.readdirSync(entry).sort()).toEqual([...MEMBERS, "sha256"].sort());
    expect(fs.readFileSync(path.join(entry, "vmlinuz"), "utf8")).toBe("vmlinuz");
    expect(fs.existsSync(file)).toBe(false);
    expect(run(["status", ...key])).toMatchObject({ status: 0, json: { present: true } });
    const again = upload();
    expect(run(["store", ...key, "--from", again.file])).toMatchObject({
      status: 0,
      json: { stored: false },
    });
    expect(fs.existsSync(again.file)).toBe(false);
    expect(run(["remove", ...key])).toMatchObject({ status: 0, json: { removed: true } });
    expect(run(["check", ...key]).status).toBe(3);
  });

  it("refuses bytes other than the digest and an archive without every member, leaving nothing", () => {
    const altered = upload();
    const expected = createHash("sha256").update("the real archive").digest("hex");
    const refused = run(["store", "--sha256", expected, "--from", altered.file]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`expected ${expected}: nothing stored`);
    expect(fs.existsSync(altered.file)).toBe(false);
    const partial = upload(["disk.qcow2", "kernel-release"]);
    const incomplete = run(["store", "--sha256", partial.sha, "--from", partial.file]);
    expect(incomplete.status).not.toBe(0);
    expect(incomplete.stderr).toContain("does not hold");
    expect(fs.existsSync(partial.file)).toBe(false);
    // Neither a half-unpacked entry nor a temporary directory is left in the cache.
    expect(fs.readdirSync(path.join(dir, "cache", "images"))).toEqual([]);
  });

  it("takes --from only with store, and a digest only as 64 hex digits", () => {
    const sha = "a".repeat(64);
    expect(run(["store", "--sha256", sha]).status).toBe(2);
    expect(run(["check", "--sha256", sha, "--from", "/tmp/x"]).status).toBe(2);
    expect(run(["status", "--sha256", "nothex"]).status).toBe(2);
  });
});
