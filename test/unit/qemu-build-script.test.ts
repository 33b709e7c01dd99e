/**
 * Runs kernel-builds/qemu/build.sh on a stand-in QEMU source tree (test/fixtures/fake-qemu/: a
 * configure that takes the same options and a Makefile whose "binary" answers the help queries),
 * with --install-deps 0, so the source/configure/build/verify/stamp logic runs for real here.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "../..");
const script = path.join(root, "kernel-builds/qemu/build.sh");
const standIn = path.join(root, "test/fixtures/fake-qemu");

let dir: string;
let env: NodeJS.ProcessEnv;
let netmapSrc: string;
let buildCount: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "qemu-build-"));
  buildCount = path.join(dir, "build-count");
  env = {
    ...process.env,
    NMTB_STATE_DIR: path.join(dir, "state"),
    NMTB_OPT_DIR: path.join(dir, "opt"),
    FAKE_QEMU_BUILD_COUNT: buildCount,
    // Local file:// submodules are refused by default since git 2.38.1.
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "protocol.file.allow",
    GIT_CONFIG_VALUE_0: "always",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.invalid",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.invalid",
  };
  netmapSrc = path.join(dir, "netmap");
  fs.mkdirSync(path.join(netmapSrc, "sys", "net"), { recursive: true });
  fs.writeFileSync(path.join(netmapSrc, "sys", "net", "netmap.h"), "/* stand-in */\n");
  fs.writeFileSync(path.join(netmapSrc, "sys", "net", "netmap_user.h"), "/* stand-in */\n");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function build(args: string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
} {
  const r = spawnSync("bash", [script, ...args], { env, encoding: "utf8" });
  const out = r.stdout.trim();
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json: r.status === 0 ? (JSON.parse(out) as Record<string, unknown>) : {},
  };
}

function preparedTree(): string {
  const tree = path.join(dir, "qemu-src");
  fs.cpSync(standIn, tree, { recursive: true });
  return tree;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
}

const builds = (): number =>
  fs.existsSync(buildCount) ? fs.readFileSync(buildCount, "utf8").split("\n").length - 1 : 0;

describe("kernel-builds/qemu/build.sh", () => {
  it("builds from a prepared tree, verifies, stamps; the same key again does nothing", () => {
    const tree = preparedTree();
    const args = ["--path", tree, "--config-key", "k1", "--netmap-source", netmapSrc, "--install-deps", "0"];
    const first = build(args);
    expect(first.stderr).not.toMatch(/: error:/);
    expect(first.status).toBe(0);
    const prefix = path.join(dir, "opt", "qemu", "k1");
    expect(first.json).toEqual({
      action: "apply",
      configKey: "k1",
      prefix,
      binary: path.join(prefix, "bin", "qemu-system-x86_64"),
      commit: null,
      source: tree,
      changed: true,
      built: true,
    });
    const configureLog = fs.readFileSync(path.join(dir, "state", "qemu", "k1", "configure.log"), "utf8");
    expect(configureLog).toMatch(/netmap support {4}yes/);
    expect(builds()).toBe(1);
    // The prepared tree is not modified (out-of-tree build).
    expect(fs.existsSync(path.join(tree, "Makefile"))).toBe(false);

    const second = build(args);
    expect(second.status).toBe(0);
    expect(second.json).toMatchObject({ changed: false, built: true });
    expect(builds()).toBe(1);

    expect(build(["status", "--config-key", "k1"]).json).toMatchObject({
      present: true,
      built: true,
      source: tree,
    });
    // "present" (what refresh reads) needs this key's stamp in the prefix, not just any build.
    expect(build(["status", "--config-key", "k9", "--prefix", prefix]).json).toMatchObject({
      present: false,
      built: true,
    });
    expect(build(["status", "--config-key", "k9"]).json).toMatchObject({ present: false, built: false });
    // Apply/remove results carry no "present": it belongs to status.
    expect(second.json).not.toHaveProperty("present");
  });

  it("clones a git repository at a ref, fetches ui/keycodemapdb, records the commit", () => {
    const kc = path.join(dir, "keycodemapdb");
    fs.mkdirSync(kc);
    fs.writeFileSync(path.join(kc, "README"), "keymaps\n");
    git(kc, "init", "-q");
    git(kc, "add", ".");
    git(kc, "commit", "-qm", "kc");
    const repo = preparedTree();
    fs.rmSync(path.join(repo, "ui", "keycodemapdb"), { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    git(repo, "submodule", "add", "-q", kc, "ui/keycodemapdb");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "stand-in qemu");
    const head = git(repo, "rev-parse", "HEAD");
    git(repo, "tag", "v3.0.94");
    git(repo, "commit", "-q", "--allow-empty", "-m", "later");

    const r = build([
      "--git",
      `file://${repo}`,
      "--ref",
      "v3.0.94",
      "--config-key",
      "k2",
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
    ]);
    expect(r.stderr).not.toMatch(/: error:/);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ commit: head, source: `file://${repo}#v3.0.94`, changed: true });
    expect(fs.existsSync(path.join(dir, "state", "qemu", "k2", "src", "ui", "keycodemapdb", "README"))).toBe(
      true,
    );
  });

  it("fails with what the binary printed when ptnet-pci/netmap are missing", () => {
    const r = build([
      "--path",
      preparedTree(),
      "--config-key",
      "k3",
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
      "--configure-arg",
      "--disable-netmap",
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/-device help does not list ptnet-pci .*it printed: Network devices:/s);
    expect(r.stderr).toMatch(/virtio-net-pci/);
  });

  it("fails clearly when configure fails, showing its log", () => {
    fs.rmSync(path.join(netmapSrc, "sys", "net", "netmap_user.h"));
    fs.writeFileSync(path.join(netmapSrc, "sys", "net", "netmap_user.h.moved"), "");
    const r = build([
      "--path",
      preparedTree(),
      "--config-key",
      "k4",
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/must be a netmap source tree/);
  });

  it("refuses a prepared non-git tree without the keycodemapdb submodule", () => {
    const tree = preparedTree();
    fs.rmSync(path.join(tree, "ui", "keycodemapdb"), { recursive: true });
    fs.mkdirSync(path.join(tree, "ui", "keycodemapdb"));
    fs.writeFileSync(
      path.join(tree, ".gitmodules"),
      '[submodule "ui/keycodemapdb"]\n\tpath = ui/keycodemapdb\n',
    );
    const r = build([
      "--path",
      tree,
      "--config-key",
      "k5",
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ui\/keycodemapdb is empty and .* is not a git checkout/);
  });

  it("builds from a tarball", () => {
    const tree = preparedTree();
    const tarball = path.join(dir, "qemu.tar.gz");
    execFileSync("tar", ["-czf", tarball, "-C", dir, path.basename(tree)]);
    const r = build([
      "--path",
      tarball,
      "--config-key",
      "k6",
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
    ]);
    expect(r.status).toBe(0);
    expect(r.json.source).toMatch(/qemu\.tar\.gz \(sha256 [0-9a-f]{64}\)/);
  });

  it("--remove deletes the prefix, twice without error", () => {
    expect(
      build([
        "--path",
        preparedTree(),
        "--config-key",
        "k7",
        "--netmap-source",
        netmapSrc,
        "--install-deps",
        "0",
      ]).status,
    ).toBe(0);
    const prefix = path.join(dir, "opt", "qemu", "k7");
    expect(fs.existsSync(prefix)).toBe(true);
    expect(build(["--remove", "--config-key", "k7"]).json).toMatchObject({ action: "remove", changed: true });
    expect(fs.existsSync(prefix)).toBe(false);
    expect(build(["remove", "--config-key", "k7"]).json).toMatchObject({ changed: false, built: false });
    expect(build(["status", "--config-key", "k7"]).json).toMatchObject({ present: false, built: false });
  });

  it("rejects bad arguments with exit 2", () => {
    expect(build(["--config-key", "k8", "--netmap-source", netmapSrc]).status).toBe(2);
    expect(build(["--path", "/tmp", "--config-key", "bad key", "--netmap-source", netmapSrc]).status).toBe(2);
    const r = build([
      "--path",
      preparedTree(),
      "--config-key",
      "k9",
      "--netmap-source",
      netmapSrc,
      "--configure-arg",
      "$(reboot)",
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid --configure-arg/);
  });
});
