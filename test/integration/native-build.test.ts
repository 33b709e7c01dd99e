/**
 * Native builds for local-lab hosts, end to end. kernel-builds/lab/native-build.sh builds the
 * stand-in netmap (test/fixtures/fake-netmap, a `--path` source, with its patched `dummy`
 * driver) and the stand-in QEMU (test/fixtures/fake-qemu) on this controller, inside the lab base
 * image's own root filesystem. Then a lab guest booted from the very same image takes both
 * through its import paths without compiling: netmap/import.sh, whose build.sh --adopt accepts
 * the build only if its stamp holds the guest's own fingerprint for the same arguments (source
 * path included), and qemu/build.sh import (digest, stamp, prefix, binary).
 *
 * Also: a second native run reuses the extracted root and does no build work (build.sh's stamps),
 * and a corrupted archive (digest mismatch) is refused and changes nothing on the guest.
 *
 * Needs root (or unprivileged user namespaces), debugfs, and Debian's mirror (apt in the image's
 * root installs the QEMU build dependencies). Warm image: ~3-4 min under TCG.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import type { RunResult } from "../../components/host";
import { ensureBaseImage, startGuestHosts, type BaseImage, type GuestHost } from "../fixtures/guest-host";
import { GuestSession, explainFailure, lastJson } from "../support/guest-session";

const ROOT = path.resolve(__dirname, "..", "..");
const NATIVE_BUILD = path.join(ROOT, "kernel-builds", "lab", "native-build.sh");
const FAKE_NETMAP = path.join(ROOT, "test", "fixtures", "fake-netmap");
const FAKE_QEMU = path.join(ROOT, "test", "fixtures", "fake-qemu");
/** Where the scripts and the stand-in netmap tree go on the guest: another path than on the controller. */
const REMOTE = "/root/nmtb";
const NETMAP_SCRIPTS = `${REMOTE}/kernel-builds/netmap`;
const QEMU_BUILD = `${REMOTE}/kernel-builds/qemu/build.sh`;
const NETMAP_CONFIG_KEY = "nmtb-native-test";
const QEMU_CONFIG_KEY = "nmtb-native-qemu";
const NATIVE_TIMEOUT_MS = 20 * 60_000;
const COMMAND_TIMEOUT_MS = 300_000;

interface NetmapBuildJson {
  buildKey: string;
  buildDir: string;
  built: boolean;
  imported: boolean;
  kernelRelease: string;
  modules: string[];
  log: string;
}

interface NativeNetmap {
  kind: "netmap";
  archive: string;
  sha256: string;
  buildKey: string;
  sourceDir: string;
  commit: string;
  built: boolean;
  exported: boolean;
  root: string;
  rootExtracted: boolean;
  build: NetmapBuildJson;
  seconds: Record<string, number>;
}

interface QemuBuildJson {
  action: string;
  configKey: string;
  prefix: string;
  binary: string;
  changed: boolean;
  built: boolean;
  imported?: boolean;
  present?: boolean;
}

interface NativeQemu {
  kind: "qemu";
  archive: string;
  sha256: string;
  configKey: string;
  prefix: string;
  runtimePackages: string[];
  built: boolean;
  exported: boolean;
  root: string;
  rootExtracted: boolean;
  build: QemuBuildJson;
  seconds: Record<string, number>;
}

/** Runs native-build.sh with argv (no shell); resolves with its JSON, or fails with its stderr tail. */
function nativeBuild<T>(args: readonly string[]): Promise<{ json: T; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [NATIVE_BUILD, ...args],
      { timeout: NATIVE_TIMEOUT_MS, killSignal: "SIGTERM", maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(`native-build.sh ${args.join(" ")} failed: ${error.message}\n${stderr.slice(-6000)}`),
          );
          return;
        }
        resolve({ json: lastJson<T>(stdout), stderr });
      },
    );
  });
}

const sha256Of = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");

/** The same bytes with one byte flipped in the middle: the digest no longer matches. */
function corrupted(file: string): Buffer {
  const bytes = Buffer.from(readFileSync(file));
  const i = Math.floor(bytes.length / 2);
  bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  return bytes;
}

function timings(label: string, seconds: Record<string, number>): string {
  return `${label}: ${Object.entries(seconds)
    .map(([phase, s]) => `${phase} ${s.toFixed(1)} s`)
    .join(", ")}`;
}

describe("native builds for local-lab hosts: built in the image's root, imported by a lab host", () => {
  let image: BaseImage;
  let work = "";
  let rootCache = "";
  let outDir = "";
  let netmap: NativeNetmap | undefined;
  let qemu: NativeQemu | undefined;
  let host: GuestHost | undefined;
  let guest: GuestSession | undefined;

  const buildArgs = (): string[] => [
    "--config-key",
    NETMAP_CONFIG_KEY,
    "--kernel-release",
    image.kernelRelease,
    "--driver",
    "dummy",
  ];
  const common = (): string[] => [
    "--disk",
    image.disk,
    "--root-cache",
    rootCache,
    "--out",
    outDir,
    "--timeout",
    "1200",
  ];
  const netmapArgs = (): string[] => [
    "netmap",
    ...common(),
    "--",
    "--path",
    FAKE_NETMAP,
    "--",
    ...buildArgs(),
  ];
  const qemuArgs = (netmapSource: string): string[] => [
    "qemu",
    ...common(),
    "--",
    "--path",
    FAKE_QEMU,
    "--config-key",
    QEMU_CONFIG_KEY,
    "--netmap-source",
    netmapSource,
  ];

  function session(): GuestSession {
    if (!guest) throw new Error("no SSH session to the guest");
    return guest;
  }
  function nativeNetmap(): NativeNetmap {
    if (!netmap) throw new Error("the native netmap build did not run");
    return netmap;
  }
  function nativeQemu(): NativeQemu {
    if (!qemu) throw new Error("the native QEMU build did not run");
    return qemu;
  }

  const sh = (command: string): Promise<string> => session().ok(["bash", "-c", command]);
  async function okJson<T>(argv: readonly string[]): Promise<T> {
    const r = await session().run(argv);
    if (r.code !== 0) throw new Error(explainFailure(session().host, argv.join(" "), r));
    return lastJson<T>(r.stdout);
  }
  /**
   * What an import may touch on the guest: netmap's builds and QEMU's prefixes and work dirs (their
   * contents: import.sh makes the empty build root before it reads the archive).
   */
  const importState = (): Promise<string> =>
    sh(
      "find /var/cache/netmap-testbed/build /opt/netmap-testbed /var/lib/netmap-testbed/qemu " +
        "-mindepth 1 -printf '%p %s %T@\\n' 2>/dev/null | sort; true",
    );

  /**
   * netmap's digest-verified import on the guest: import.sh with build.sh's arguments, the archive
   * on stdin and its digest in NMTB_ARCHIVE_SHA256 (checked before anything is unpacked).
   */
  const importNetmap = (
    archive: string,
    sha256: string,
    sourceDir: string,
    commit: string,
  ): Promise<RunResult> =>
    session().run([
      "bash",
      "-c",
      'set -euo pipefail; archive="$2"; NMTB_ARCHIVE_SHA256="$1" && export NMTB_ARCHIVE_SHA256; shift 2; exec bash "$@" < "$archive"',
      "import-netmap",
      sha256,
      archive,
      `${NETMAP_SCRIPTS}/import.sh`,
      "--source-dir",
      sourceDir,
      "--commit",
      commit,
      ...buildArgs(),
    ]);

  beforeAll(async () => {
    image = await ensureBaseImage();
    work = mkdtempSync(path.join(os.tmpdir(), "nmtb-native-build-"));
    rootCache = path.join(work, "roots");
    outDir = path.join(work, "out");
  }, 25 * 60_000);

  afterAll(async () => {
    await guest?.close().catch(() => undefined);
    await host?.stop().catch(() => undefined);
    // The extracted root is a plain tree: its mounts lived in namespaces that died with each run.
    if (work) rmSync(work, { recursive: true, force: true });
  }, 300_000);

  it(
    "builds both in the image's root; a second run reuses the root and does no build work",
    async () => {
      const first = (await nativeBuild<NativeNetmap>(netmapArgs())).json;
      expect(first).toMatchObject({ kind: "netmap", built: true, exported: true, rootExtracted: true });
      expect(first.build).toMatchObject({ built: true, imported: false, kernelRelease: image.kernelRelease });
      expect(first.build.modules).toEqual(expect.arrayContaining(["netmap", "dummy"]));
      expect(first.buildKey).toBe(first.build.buildKey);
      expect(first.archive).toBe(path.join(outDir, `${first.buildKey}.tgz`));
      expect(sha256Of(first.archive)).toBe(first.sha256);
      expect(readFileSync(`${first.archive}.sha256`, "utf8")).toBe(
        `${first.sha256}  ${first.buildKey}.tgz\n`,
      );
      // The lab host's own fetch.sh names the source by content: the same path there.
      expect(first.sourceDir).toMatch(/^\/var\/cache\/netmap-testbed\/src\/dir-[0-9a-f]{16}$/);
      netmap = first;

      const firstQemu = (await nativeBuild<NativeQemu>(qemuArgs(first.sourceDir))).json;
      expect(firstQemu).toMatchObject({
        kind: "qemu",
        configKey: QEMU_CONFIG_KEY,
        prefix: `/opt/netmap-testbed/qemu/${QEMU_CONFIG_KEY}`,
        built: true,
        exported: true,
        rootExtracted: false,
        root: first.root,
      });
      expect(firstQemu.build).toMatchObject({ action: "apply", changed: true, built: true });
      // The stand-in's "binary" is a shell script: it links against nothing.
      expect(firstQemu.runtimePackages).toEqual([]);
      expect(sha256Of(firstQemu.archive)).toBe(firstQemu.sha256);
      qemu = firstQemu;

      const again = (await nativeBuild<NativeNetmap>(netmapArgs())).json;
      expect(again).toMatchObject({
        built: false,
        exported: false,
        rootExtracted: false,
        root: first.root,
        buildKey: first.buildKey,
        sha256: first.sha256,
        sourceDir: first.sourceDir,
      });
      expect(again.build).toMatchObject({ built: false, buildDir: first.build.buildDir });
      expect(again.seconds.extract).toBeUndefined();
      const qemuAgain = (await nativeBuild<NativeQemu>(qemuArgs(first.sourceDir))).json;
      expect(qemuAgain).toMatchObject({
        built: false,
        exported: false,
        rootExtracted: false,
        sha256: firstQemu.sha256,
      });
      expect(qemuAgain.build).toMatchObject({ changed: false });
      expect(sha256Of(first.archive)).toBe(first.sha256);

      // Nothing stays mounted, and the mount points made for the sources are gone from the root.
      expect(readFileSync("/proc/mounts", "utf8")).not.toContain(rootCache);
      expect(existsSync(path.join(first.root, FAKE_NETMAP))).toBe(false);
      expect(existsSync(path.join(first.root, FAKE_QEMU))).toBe(false);

      process.stderr.write(
        [
          timings("native netmap, first run", first.seconds),
          timings("native QEMU, first run", firstQemu.seconds),
          timings("native netmap, second run", again.seconds),
          timings("native QEMU, second run", qemuAgain.seconds),
        ].join("\n") + "\n",
      );
    },
    NATIVE_TIMEOUT_MS,
  );

  it(
    "a lab host adopts the native netmap build without compiling; a corrupted archive changes nothing",
    async () => {
      const native = nativeNetmap();
      [host] = await startGuestHosts({ names: ["nmtb-native"] });
      guest = await GuestSession.open(host, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
      expect((await sh("uname -r")).trim()).toBe(image.kernelRelease);
      // The scripts and the stand-in tree as a deployment ships them (another path than here).
      const tree = await new Promise<Buffer>((resolve, reject) =>
        execFile(
          "tar",
          ["-C", ROOT, "-czf", "-", "kernel-builds", "test/fixtures/fake-netmap"],
          { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      );
      await sh(`rm -rf ${REMOTE} && mkdir -p ${REMOTE}`);
      await session().ok(["tar", "-xzf", "-", "-C", REMOTE], { stdin: tree });

      const fetched = await okJson<{ sourceDir: string; commit: string }>([
        `${NETMAP_SCRIPTS}/fetch.sh`,
        "--path",
        `${REMOTE}/test/fixtures/fake-netmap`,
      ]);
      expect(fetched).toMatchObject({ sourceDir: native.sourceDir, commit: native.commit });

      await session().ssh.sftpPut(corrupted(native.archive), "/root/netmap-corrupted.tgz");
      await session().ssh.sftpPut(native.archive, "/root/netmap.tgz");
      const before = await importState();
      const refused = await importNetmap(
        "/root/netmap-corrupted.tgz",
        native.sha256,
        fetched.sourceDir,
        fetched.commit,
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/has sha256 [0-9a-f]{64}, not the expected .*nothing unpacked/);
      // Without a digest, import.sh unpacks nothing at all.
      const unchecked = await session().run(
        [
          `${NETMAP_SCRIPTS}/import.sh`,
          "--source-dir",
          fetched.sourceDir,
          "--commit",
          fetched.commit,
          ...buildArgs(),
        ],
        { stdin: readFileSync(native.archive) },
      );
      expect(unchecked.code).not.toBe(0);
      expect(unchecked.stderr).toMatch(/NMTB_ARCHIVE_SHA256 must give the archive's sha256/);
      expect(await importState()).toBe(before);

      const imported = await importNetmap(
        "/root/netmap.tgz",
        native.sha256,
        fetched.sourceDir,
        fetched.commit,
      );
      if (imported.code !== 0) throw new Error(explainFailure(session().host, "import.sh", imported));
      const adopted = lastJson<NetmapBuildJson>(imported.stdout);
      expect(adopted).toMatchObject({
        built: false,
        imported: true,
        buildKey: native.buildKey,
        buildDir: native.build.buildDir,
        kernelRelease: image.kernelRelease,
      });
      expect(adopted.modules).toEqual(native.build.modules);
      // Nothing was configured or compiled here: the log says so and has no configure line.
      const log = await sh(`cat ${adopted.log}`);
      expect(log).toMatch(/imported from another host, not built here/);
      expect(log).not.toMatch(/configure/);
      // build.sh with the very same arguments finds its stamp current: no work.
      const current = await okJson<NetmapBuildJson>([
        `${NETMAP_SCRIPTS}/build.sh`,
        "--source-dir",
        fetched.sourceDir,
        "--commit",
        fetched.commit,
        ...buildArgs(),
      ]);
      expect(current).toMatchObject({ built: false, imported: false, buildKey: native.buildKey });
      // The module built on the controller loads into the lab host's kernel.
      const ko = (
        await sh(`find ${adopted.buildDir} -name netmap.ko -not -path '*/netmap-tmpdir/*' | head -n 1`)
      ).trim();
      expect((await sh(`modinfo -F vermagic ${ko}`)).split(" ")[0]).toBe(image.kernelRelease);
      await sh(`insmod ${ko} && test -d /sys/module/netmap && rmmod netmap`);
    },
    20 * 60_000,
  );

  it(
    "a lab host imports the native QEMU build without compiling; a corrupted archive changes nothing",
    async () => {
      const native = nativeQemu();
      const importArgs = (archive: string): string[] => [
        QEMU_BUILD,
        "import",
        "--archive",
        archive,
        "--sha256",
        native.sha256,
        "--config-key",
        QEMU_CONFIG_KEY,
      ];
      await session().ssh.sftpPut(corrupted(native.archive), "/root/qemu-corrupted.tgz");
      await session().ssh.sftpPut(native.archive, "/root/qemu.tgz");

      const before = await importState();
      const refused = await session().run(importArgs("/root/qemu-corrupted.tgz"));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}.*nothing changed/);
      expect(await importState()).toBe(before);

      // Not there yet: the controller's build-sharing check says so (exit 3), changing nothing.
      const check = [QEMU_BUILD, "check", "--config-key", QEMU_CONFIG_KEY];
      expect((await session().run(check)).code).toBe(3);
      // As the controller's build sharing sends it: the archive on stdin, its digest in the environment.
      const imported = await okJson<QemuBuildJson>([
        "bash",
        "-c",
        'set -euo pipefail; NMTB_ARCHIVE_SHA256="$1" && export NMTB_ARCHIVE_SHA256; exec bash "$2" import --archive - --config-key "$3" < "$4"',
        "import-qemu",
        native.sha256,
        QEMU_BUILD,
        QEMU_CONFIG_KEY,
        "/root/qemu.tgz",
      ]);
      expect(imported).toMatchObject({
        action: "import",
        configKey: QEMU_CONFIG_KEY,
        prefix: native.prefix,
        changed: true,
        built: true,
        imported: true,
      });
      // No configure, no make: build.sh's work dir has no logs, and the binary answers as ptnet QEMU.
      expect(await sh(`ls /var/lib/netmap-testbed/qemu/${QEMU_CONFIG_KEY} 2>/dev/null; true`)).not.toMatch(
        /configure\.log|make\.log/,
      );
      expect(await sh(`${imported.binary} -device help`)).toMatch(/"ptnet-pci"/);
      expect(await sh(`cat ${native.prefix}/.netmap-testbed-imported`)).toContain(native.sha256);

      const again = await okJson<QemuBuildJson>(importArgs("/root/qemu.tgz"));
      expect(again).toMatchObject({ changed: false, imported: false });
      expect(await okJson<QemuBuildJson>(check)).toMatchObject({
        action: "apply",
        changed: false,
        built: true,
      });
      const status = await okJson<QemuBuildJson>([QEMU_BUILD, "status", "--config-key", QEMU_CONFIG_KEY]);
      expect(status).toMatchObject({ present: true });

      // Installed, a damaged archive is still refused, and the installed build stays as it was.
      const installed = await importState();
      const refusedAgain = await session().run(importArgs("/root/qemu-corrupted.tgz"));
      expect(refusedAgain.code).toBe(1);
      expect(await importState()).toBe(installed);
    },
    10 * 60_000,
  );
});
