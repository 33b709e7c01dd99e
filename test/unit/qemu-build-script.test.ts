/**
 * Runs kernel-builds/qemu/build.sh on a stand-in QEMU source tree (test/fixtures/fake-qemu/: a
 * configure that takes the same options and a Makefile whose "binary" answers the help queries),
 * with --install-deps 0, so the source/configure/build/verify/stamp logic runs for real here.
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
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
    // import --archive - keeps its copy of stdin here: the tests see that it goes again.
    TMPDIR: path.join(dir, "tmp"),
  };
  delete env.NMTB_ARCHIVE_SHA256;
  fs.mkdirSync(path.join(dir, "tmp"));
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

/** The script with binary stdin/stdout (export's archive, import's stdin), and extra environment. */
function run(
  args: string[],
  options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {},
): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync("bash", [script, ...args], {
    env: { ...env, ...options.env },
    input: options.input ?? Buffer.alloc(0),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** One member of a gzip'd tar, as text. */
function member(archive: Buffer, name: string): string {
  return execFileSync("tar", ["-xzOf", "-", name], { input: archive, encoding: "utf8" });
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

  describe("build sharing: check, export, import from stdin", () => {
    const key = "ks";
    let tree: string;
    let prefix: string;
    const applyArgs = (): string[] => [
      "--path",
      tree,
      "--config-key",
      key,
      "--netmap-source",
      netmapSrc,
      "--install-deps",
      "0",
    ];
    // Another host: its own NMTB_* directories, the exporter's prefix (QEMU has it compiled in).
    const otherHost = (): NodeJS.ProcessEnv => ({
      NMTB_OPT_DIR: path.join(dir, "other", "opt"),
      NMTB_STATE_DIR: path.join(dir, "other", "state"),
    });
    const tmpLeft = (): string[] => fs.readdirSync(path.join(dir, "tmp"));
    // What the controller runs to import an archive it streams (qemuShare's import).
    const stdinImportArgs = (): string[] => [
      "import",
      "--archive",
      "-",
      "--config-key",
      key,
      "--prefix",
      prefix,
      "--install-deps",
      "0",
    ];

    beforeEach(() => {
      tree = preparedTree();
      prefix = path.join(dir, "opt", "qemu", key);
    });

    it("check: exit 3 and nothing created while absent; apply's no-work JSON once built", () => {
      const absent = run(["check", "--config-key", key]);
      expect(absent.status).toBe(3);
      expect(absent.stdout.length).toBe(0);
      expect(absent.stderr).toContain(`no QEMU build in ${prefix}`);
      expect(fs.existsSync(path.join(dir, "opt"))).toBe(false);
      expect(fs.existsSync(path.join(dir, "state"))).toBe(false);

      expect(build(applyArgs()).status).toBe(0);
      const present = build(["check", "--config-key", key]);
      expect(present.status).toBe(0);
      expect(present.json).toEqual({
        action: "apply",
        configKey: key,
        prefix,
        binary: path.join(prefix, "bin", "qemu-system-x86_64"),
        commit: null,
        source: tree,
        changed: false,
        built: true,
      });
      // What apply itself prints when it has nothing to do.
      expect(build(applyArgs()).json).toEqual(present.json);

      const otherKey = run(["check", "--config-key", "other", "--prefix", prefix]);
      expect(otherKey.status).toBe(3);
      expect(otherKey.stderr).toContain(`${prefix} holds QEMU ${key}, not other`);
      fs.chmodSync(path.join(prefix, "bin", "qemu-system-x86_64"), 0o644);
      expect(run(["check", "--config-key", key]).status).toBe(3);
    });

    it("export, then import on stdin with NMTB_ARCHIVE_SHA256 elsewhere; again: no work", () => {
      expect(build(applyArgs()).status).toBe(0);
      const stamp = fs.readFileSync(path.join(prefix, ".netmap-testbed-stamp"), "utf8");
      const exported = run(["export", "--config-key", key]);
      expect(exported.stderr).not.toMatch(/error/);
      expect(exported.status).toBe(0);
      const archive = exported.stdout;
      expect(archive.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      const members = execFileSync("tar", ["-tzf", "-"], { input: archive, encoding: "utf8" }).split("\n");
      expect(members).toEqual(
        expect.arrayContaining([
          "./.netmap-testbed-stamp",
          "./bin/qemu-system-x86_64",
          ".netmap-testbed-archive",
        ]),
      );
      const meta = member(archive, ".netmap-testbed-archive").split("\n");
      expect(meta.slice(0, 3)).toEqual([
        "format netmap-testbed/qemu-archive/v1",
        `configKey ${key}`,
        `prefix ${prefix}`,
      ]);
      // Whatever dpkg on this machine says about the stand-in (a shell script links nothing: then
      // the line is "runtimePackages ", as native-build.sh always wrote it).
      expect(meta[3]).toMatch(/^runtimePackages ([a-z0-9][a-z0-9+.-]+( [a-z0-9][a-z0-9+.-]+)*)?$/);
      expect(meta.length).toBe(5);

      // The exporting host is gone; the other host has the same prefix path, nothing in it.
      expect(build(["remove", "--config-key", key]).status).toBe(0);
      expect(fs.existsSync(prefix)).toBe(false);
      const digest = { ...otherHost(), NMTB_ARCHIVE_SHA256: sha256(archive) };
      const importArgs = stdinImportArgs();

      // Without --prefix, the other host's default prefix is not the one compiled in.
      const elsewhere = run(importArgs.slice(0, 5), { input: archive, env: digest });
      expect(elsewhere.status).toBe(1);
      expect(elsewhere.stderr).toContain(
        `built for prefix ${prefix}, not ${path.join(dir, "other", "opt", "qemu", key)}`,
      );

      const imported = run(importArgs, { input: archive, env: digest });
      expect(imported.stderr).not.toMatch(/error/);
      expect(imported.status).toBe(0);
      expect(JSON.parse(imported.stdout.toString("utf8"))).toMatchObject({
        action: "import",
        configKey: key,
        prefix,
        binary: path.join(prefix, "bin", "qemu-system-x86_64"),
        source: tree,
        changed: true,
        built: true,
        imported: true,
      });
      expect(fs.statSync(path.join(prefix, "bin", "qemu-system-x86_64")).mode & 0o111).not.toBe(0);
      expect(fs.readFileSync(path.join(prefix, ".netmap-testbed-stamp"), "utf8")).toBe(stamp);
      expect(fs.readFileSync(path.join(prefix, ".netmap-testbed-imported"), "utf8")).toBe(
        `sha256 ${sha256(archive)}\narchive (stdin)\n`,
      );
      expect(tmpLeft()).toEqual([]);
      expect(build(["check", "--config-key", key, "--prefix", prefix]).json).toMatchObject({
        changed: false,
        built: true,
      });

      const again = run(importArgs, { input: archive, env: digest });
      expect(again.status).toBe(0);
      expect(JSON.parse(again.stdout.toString("utf8"))).toMatchObject({ changed: false, imported: false });
      // --archive FILE with --sha256 still works, and --sha256 wins over the environment.
      const file = path.join(dir, "qemu-ks.tgz");
      fs.writeFileSync(file, archive);
      const fromFile = run(
        ["import", "--archive", file, "--sha256", sha256(archive), "--config-key", key, "--prefix", prefix],
        { env: { ...otherHost(), NMTB_ARCHIVE_SHA256: "0".repeat(64) } },
      );
      expect(fromFile.status).toBe(0);
      expect(JSON.parse(fromFile.stdout.toString("utf8"))).toMatchObject({ imported: false });

      // An imported build exports again, with this export's metadata only.
      const reexported = run(["export", "--config-key", key, "--prefix", prefix], { env: otherHost() });
      expect(reexported.status).toBe(0);
      const names = execFileSync("tar", ["-tzf", "-"], { input: reexported.stdout, encoding: "utf8" });
      expect(names).not.toMatch(/^\.\/\.netmap-testbed-(archive|imported)$/m);
      expect(member(reexported.stdout, ".netmap-testbed-archive")).toContain(`prefix ${prefix}\n`);
    });

    it("import on stdin refuses a wrong digest (naming both) and needs one at all", () => {
      expect(build(applyArgs()).status).toBe(0);
      const archive = run(["export", "--config-key", key]).stdout;
      expect(build(["remove", "--config-key", key]).status).toBe(0);
      const importArgs = stdinImportArgs();
      const wrong = "ab".repeat(32);

      const refused = run(importArgs, {
        input: archive,
        env: { ...otherHost(), NMTB_ARCHIVE_SHA256: wrong },
      });
      expect(refused.status).toBe(1);
      expect(refused.stdout.length).toBe(0);
      expect(refused.stderr).toContain(
        `the archive on stdin has sha256 ${sha256(archive)}, expected ${wrong} (damaged or not the archive meant): nothing changed`,
      );
      expect(fs.existsSync(prefix)).toBe(false);
      expect(fs.existsSync(path.join(dir, "other"))).toBe(false);
      expect(tmpLeft()).toEqual([]);

      const none = run(importArgs, { input: archive, env: otherHost() });
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/import needs the archive's sha256: --sha256 HEX or NMTB_ARCHIVE_SHA256/);
      const invalid = run(importArgs, {
        input: archive,
        env: { ...otherHost(), NMTB_ARCHIVE_SHA256: "xyz" },
      });
      expect(invalid.status).toBe(2);
      expect(invalid.stderr).toMatch(/invalid NMTB_ARCHIVE_SHA256 'xyz'/);
      expect(fs.existsSync(prefix)).toBe(false);

      // Installed, a damaged archive is still an error and the build stays as it was.
      const ok = run(importArgs, {
        input: archive,
        env: { ...otherHost(), NMTB_ARCHIVE_SHA256: sha256(archive) },
      });
      expect(ok.status).toBe(0);
      const stamp = fs.readFileSync(path.join(prefix, ".netmap-testbed-stamp"), "utf8");
      const damaged = Buffer.from(archive);
      damaged[damaged.length - 1] ^= 0xff;
      const refusedAgain = run(importArgs, {
        input: damaged,
        env: { ...otherHost(), NMTB_ARCHIVE_SHA256: sha256(archive) },
      });
      expect(refusedAgain.status).toBe(1);
      expect(refusedAgain.stderr).toContain(`has sha256 ${sha256(damaged)}, expected ${sha256(archive)}`);
      expect(fs.readFileSync(path.join(prefix, ".netmap-testbed-stamp"), "utf8")).toBe(stamp);
      expect(tmpLeft()).toEqual([]);
    });

    it("export refuses an absent, unstamped or other key's prefix, writing nothing", () => {
      const absent = run(["export", "--config-key", key]);
      expect(absent.status).toBe(1);
      expect(absent.stdout.length).toBe(0);
      expect(absent.stderr).toContain(`no QEMU build in ${prefix}: nothing exported`);

      const unstamped = path.join(dir, "unstamped");
      fs.mkdirSync(path.join(unstamped, "bin"), { recursive: true });
      fs.copyFileSync("/bin/true", path.join(unstamped, "bin", "qemu-system-x86_64"));
      const noStamp = run(["export", "--config-key", key, "--prefix", unstamped]);
      expect(noStamp.status).toBe(1);
      expect(noStamp.stdout.length).toBe(0);
      expect(noStamp.stderr).toContain(`${unstamped} has no stamp`);

      expect(build(applyArgs()).status).toBe(0);
      const otherKey = run(["export", "--config-key", "other", "--prefix", prefix]);
      expect(otherKey.status).toBe(1);
      expect(otherKey.stdout.length).toBe(0);
      expect(otherKey.stderr).toContain(`${prefix} holds QEMU ${key}, not other`);
    });
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
