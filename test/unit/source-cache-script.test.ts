/**
 * kernel-builds/host/source-cache.sh, run here with its cache in a temporary directory: the
 * uploaded copy is checked before it is stored, removed whatever happens, and a stored archive
 * is found by its digest.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const script = path.resolve(__dirname, "../../kernel-builds/host/source-cache.sh");
let dir: string;

function run(args: string[]): { status: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync("bash", [script, ...args], {
    env: { ...process.env, NMTB_CACHE_DIR: path.join(dir, "cache") },
    encoding: "utf8",
  });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return {
    status: r.status,
    json: last ? (JSON.parse(last) as Record<string, unknown>) : {},
    stderr: r.stderr,
  };
}

function upload(bytes: string): { file: string; sha: string } {
  const file = path.join(dir, `upload-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, bytes);
  return { file, sha: createHash("sha256").update(bytes).digest("hex") };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-source-cache-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("source-cache.sh", () => {
  it("stores a checked upload under its digest, deletes the upload, and finds it again", () => {
    const { file, sha } = upload("netmap source bytes");
    const key = ["--sha256", sha, "--ext", "tgz"];
    expect(run(["check", ...key]).status).toBe(3);
    expect(run(["status", ...key])).toMatchObject({ status: 0, json: { present: false } });
    const stored = run(["store", ...key, "--from", file]);
    expect(stored).toMatchObject({ status: 0, json: { stored: true } });
    const cached = path.join(dir, "cache", "sources", `${sha}.tgz`);
    expect(stored.json.path).toBe(cached);
    expect(fs.readFileSync(cached, "utf8")).toBe("netmap source bytes");
    expect(fs.existsSync(file)).toBe(false);
    expect(run(["check", ...key])).toMatchObject({ status: 0, json: { present: true } });
    // Again: nothing to do, and the new upload goes too.
    const again = upload("netmap source bytes");
    expect(run(["store", ...key, "--from", again.file])).toMatchObject({
      status: 0,
      json: { stored: false },
    });
    expect(fs.existsSync(again.file)).toBe(false);
    expect(run(["remove", ...key])).toMatchObject({ status: 0, json: { removed: true } });
    expect(run(["check", ...key]).status).toBe(3);
  });

  it("refuses bytes other than the controller's digest, stores nothing, and still deletes the upload", () => {
    const { file } = upload("altered in transit");
    const expected = createHash("sha256").update("the real thing").digest("hex");
    const refused = run(["store", "--sha256", expected, "--ext", "tar.gz", "--from", file]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`not the controller's ${expected}`);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(path.join(dir, "cache", "sources"))).toEqual([]);
  });

  it("refuses an archive name it would not hand on, and a missing --from", () => {
    const sha = "a".repeat(64);
    expect(run(["store", "--sha256", sha, "--ext", "zip;id", "--from", "/tmp/x"]).status).toBe(2);
    expect(run(["store", "--sha256", sha, "--ext", "tgz"]).status).toBe(2);
    expect(run(["check", "--sha256", "nothex", "--ext", "tgz"]).status).toBe(2);
  });
});
