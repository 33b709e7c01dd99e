/**
 * A VM of the lab's own image gets netmap and its tools from its seed, without internet. On this
 * controller: native-build.sh builds the stand-in netmap (test/fixtures/fake-netmap) in the lab
 * image's root for its kernel; make-seed.sh --format lab packs that archive, netmap's parameters,
 * the login user and its key with guest-setup.sh into the seed; the image goes through the chain a
 * recipe image's hosts run (lab/pack-guest-image.sh here, image/store-image.sh on the "host", SFTP
 * aside); kernel-builds/vm/vm.sh starts the controller's own QEMU (TCG) on the stored image with the
 * planner's argv for a recipe image (components/plan/vm.ts), linking the stored kernel and initrd
 * into the VM's directory; the image's nmtb-seed runs guest-setup.sh at boot.
 *
 * Then, as the seed's user `netmap` over the project's SSH session with the host key pinned from
 * the console's cloud-init markers (what the playbook runner does): netmap is loaded with
 * ptnet_vnet_hdr=0, the stand-in's tools run from /opt/netmap-testbed/bin, sudo needs no
 * password, and a second run of the seed (nmtb-seed runs at every boot) changes nothing. In the
 * same guest, guest-setup.sh refuses a seed whose archive does not match its digest and one whose
 * netmap.ko is for another kernel, installing nothing of either.
 *
 * The VM's state lives in a run dir guarded like startGuestHosts' (owner record and watchdog,
 * test/support/run-owner.ts): a killed run leaves no QEMU behind. Measured on 2 cores under TCG
 * with the image and its extracted root warm: 67 s, 40-50 s of it the boot; a new image adds one
 * extraction of its root and the stand-in's build (34 s), and one qcow2 compression of it.
 */
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { utils as sshUtils } from "ssh2";

import { HostSession, buildRemoteCommand, type RunResult } from "../../components/host";
import type { VmPaths } from "../../components/plan/types";
import { argvForAccel, qemuArgv } from "../../components/plan/vm";
import { hostKeyFromConsole } from "../../components/playbooks/host-keys";
import type { RecipeImageSpec, VmSpec } from "../../components/topology/model";
import { ensureBaseImage, type BaseImage } from "../fixtures/guest-host";
import { lastJson } from "../support/guest-session";
import { currentOwner, startWatchdog } from "../support/run-owner";

const ROOT = path.resolve(__dirname, "..", "..");
const NATIVE_BUILD = path.join(ROOT, "kernel-builds", "lab", "native-build.sh");
const MAKE_SEED = path.join(ROOT, "kernel-builds", "image", "make-seed.sh");
const VM_SH = path.join(ROOT, "kernel-builds", "vm", "vm.sh");
const PACK_IMAGE = path.join(ROOT, "kernel-builds", "lab", "pack-guest-image.sh");
const STORE_IMAGE = path.join(ROOT, "kernel-builds", "image", "store-image.sh");
const FAKE_NETMAP = path.join(ROOT, "test", "fixtures", "fake-netmap");
const QEMU = "/usr/bin/qemu-system-x86_64";
/** The extracted image roots LabNativeBuild uses too: one per image, so a warm run builds nothing. */
const ROOT_CACHE = path.join(os.homedir(), ".cache", "netmap-testbed", "native-roots");
/** cleanupStaleGuestRuns (test/fixtures/guest-host.ts) reaps dead runs by this prefix. */
const RUN_DIR_PREFIX = "nmtb-guest-seed-";
const VM = "nmtb-seed-vm";
const USER = "netmap";
const CONFIG_KEY = "nmtb-guest-seed-test";
const NATIVE_TIMEOUT_MS = 20 * 60_000;
const COMMAND_TIMEOUT_MS = 120_000;
const BOOT_TIMEOUT_S = Number(process.env.NMTB_GUEST_BOOT_TIMEOUT) || 300;

interface NativeNetmap {
  archive: string;
  sha256: string;
  buildKey: string;
  build: { kernelRelease: string; apps: string[]; built: boolean };
  seconds: Record<string, number>;
}

interface SeedJson {
  path: string;
  format: string;
  tool: string;
  instanceId: string;
  contentSha256: string;
  userDataSha256: string | null;
  changed: boolean;
}

interface VmStartJson {
  ok: boolean;
  pid?: number;
  sshPort?: number;
  sshReady?: boolean;
  console?: string;
  error?: string;
  consoleTail?: string | null;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a project script with bash and argv (no shell); resolves whatever its exit code. */
function script(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      [file, ...args],
      {
        timeout: timeoutMs,
        killSignal: "SIGTERM",
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
        env: { ...process.env, ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function scriptJson<T>(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<T> {
  const r = await script(file, args, timeoutMs, env);
  if (r.code !== 0) {
    throw new Error(
      `${path.basename(file)} ${args.join(" ")} exited ${String(r.code)}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-6000)}`,
    );
  }
  return lastJson<T>(r.stdout);
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A kernel release as long as `release` (so it fits in its place in a module), and not it. */
const otherRelease = (release: string): string => `9.9.9-nmtb-${"x".repeat(64)}`.slice(0, release.length);

/**
 * The archive with its netmap.ko claiming another kernel: the release in the module's
 * `vermagic=` string overwritten in place by one of the same length (the ELF stays valid).
 */
function otherKernelArchive(
  archive: string,
  buildKey: string,
  release: string,
  dir: string,
): Promise<string> {
  const other = otherRelease(release);
  return new Promise((resolve, reject) => {
    mkdirSync(dir, { recursive: true });
    execFile("tar", ["-xzf", archive, "-C", dir], (error) => {
      if (error) return reject(error);
      const koPath = path.join(dir, buildKey, "netmap.ko");
      const ko = readFileSync(koPath);
      const at = ko.indexOf(`vermagic=${release} `);
      if (at < 0) return reject(new Error(`${koPath} has no vermagic=${release}`));
      Buffer.from(`vermagic=${other} `).copy(ko, at);
      writeFileSync(koPath, ko);
      const out = path.join(path.dirname(dir), "other-kernel.tgz");
      // By name, as export.sh packs it: `<key>/…` and `<key>.kernel`, without a leading "./".
      execFile("tar", ["-czf", out, "-C", dir, ...readdirSync(dir)], (packError) =>
        packError ? reject(packError) : resolve(out),
      );
    });
  });
}

describe("a lab-image VM gets netmap and its tools from its seed (no internet in the guest)", () => {
  let image: BaseImage;
  let runDir = "";
  let stateDir = "";
  let native: NativeNetmap | undefined;
  let seed = "";
  let sshPort = 0;
  let started = false;
  let session: HostSession | undefined;
  const clientKey = sshUtils.generateKeyPairSync("ed25519", { comment: "nmtb-guest-seed" });
  const consoleLog = (): string => path.join(stateDir, "console.log");

  function consoleTail(lines = 40): string {
    try {
      return readFileSync(consoleLog(), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no console log)";
    }
  }
  /** The error of a failed step, with the guest's console tail: what the guest said meanwhile. */
  async function withConsole<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\n--- console tail of ${VM} ---\n${consoleTail()}`, { cause: error });
    }
  }
  function nativeNetmap(): NativeNetmap {
    if (!native) throw new Error("the native netmap build did not run");
    return native;
  }
  function guest(): HostSession {
    if (!session) throw new Error(`no SSH session to ${VM}`);
    return session;
  }
  async function run(argv: readonly string[], stdin?: Buffer): Promise<RunResult> {
    return guest().run(path.posix.basename(argv[0] ?? "command"), argv, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      ...(stdin ? { stdin } : {}),
    });
  }
  async function ok(argv: readonly string[]): Promise<string> {
    const r = await run(argv);
    if (r.code !== 0) {
      throw new Error(
        `'${buildRemoteCommand(argv)}' exited ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
      );
    }
    return r.stdout;
  }
  const asRoot = (command: string, ...args: string[]): Promise<RunResult> =>
    run(["sudo", "-n", "bash", "-c", command, "as-root", ...args]);

  /**
   * What guest-setup.sh installs (contents and times), and how often netmap was loaded: a refused
   * seed, or a second run of the same one, must change none of it.
   */
  async function installedState(): Promise<string> {
    const r = await asRoot(
      "set -euo pipefail; rel=$(uname -r); " +
        "find /lib/modules/$rel/extra /opt/netmap-testbed/bin /etc/modprobe.d /etc/modules-load.d " +
        "/etc/profile.d /etc/sudoers.d -type f -printf '%p %s %T@\\n' | sort; " +
        "sha256sum /lib/modules/$rel/extra/netmap.ko; " +
        "echo ptnet_vnet_hdr=$(cat /sys/module/netmap/parameters/ptnet_vnet_hdr); " +
        "echo loads=$(dmesg | grep -c 'netmap: loaded module')",
    );
    if (r.code !== 0) throw new Error(`reading the installed state failed: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * The seed's files unpacked in the guest (as nmtb-seed unpacks the seed disk), `tamper` (shell)
   * run among them, then setup as nmtb-seed runs it.
   */
  async function runSetup(seedTar: string, tamper = ":"): Promise<RunResult> {
    const remote = `/tmp/${path.basename(seedTar)}`;
    await guest().sftpPut(seedTar, remote);
    return asRoot(
      'set -euo pipefail; dir=$(mktemp -d); tar -x --no-same-owner -C "$dir" -f "$1"; cd "$dir"; ' +
        `${tamper}; ` +
        'rc=0; bash "$dir/setup" "$dir" || rc=$?; rm -rf "$dir"; exit $rc',
      remote,
    );
  }

  /** The image as a host keeps it (store-image.sh's JSON): what the VM boots. */
  interface StoredImage {
    disk: string;
    kernel: string;
    initrd: string;
    kernelRelease: string;
    stored: boolean;
  }

  async function startVm(stored: StoredImage, argv: readonly string[]): Promise<VmStartJson> {
    const start = (): Promise<Run> =>
      script(
        VM_SH,
        [
          "start",
          "--no-systemd",
          "--name",
          VM,
          "--state-dir",
          stateDir,
          "--image",
          stored.disk,
          "--kernel",
          stored.kernel,
          "--initrd",
          stored.initrd,
          "--seed",
          seed,
          "--ssh-port",
          String(sshPort),
          "--wait-ssh",
          String(BOOT_TIMEOUT_S),
          "--",
          ...argv,
        ],
        (BOOT_TIMEOUT_S + 120) * 1000,
      );
    let r = await start();
    // No root file system or a panic fails the same way every time: no second boot for those.
    if (r.code !== 0 && !/Dropping to a shell|Kernel panic/.test(consoleTail(200))) {
      // A TCG boot now and then stalls in the guest kernel (an RCU stall on a busy 2-core
      // machine); vm.sh has stopped that VM and removed its overlay: one fresh boot, after saying why.
      process.stderr.write(`vm.sh start failed, booting once more:\n${r.stdout}\n${r.stderr.slice(-3000)}\n`);
      r = await start();
    }
    if (r.code !== 0) throw new Error(`vm.sh start failed:\n${r.stdout}\n${r.stderr.slice(-6000)}`);
    return lastJson<VmStartJson>(r.stdout);
  }

  beforeAll(async () => {
    image = await ensureBaseImage();
    runDir = mkdtempSync(path.join(os.tmpdir(), RUN_DIR_PREFIX));
    writeFileSync(path.join(runDir, "owner.json"), JSON.stringify(currentOwner()));
    // Before QEMU exists: vm.sh --no-systemd leaves it running in its own session.
    startWatchdog("guest-run", [runDir]);
    stateDir = path.join(runDir, VM);
    mkdirSync(stateDir);
    seed = path.join(stateDir, "seed.img");
  }, 25 * 60_000);

  afterAll(async () => {
    await session?.close().catch(() => undefined);
    if (started) {
      const stop = await script(
        VM_SH,
        ["stop", "--name", VM, "--state-dir", stateDir, "--timeout", "30"],
        90_000,
      );
      if (stop.code !== 0) process.stderr.write(`vm.sh stop failed:\n${stop.stdout}\n${stop.stderr}\n`);
    }
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  it(
    "builds the stand-in netmap for the image's kernel and writes a lab seed with it",
    async () => {
      const t0 = Date.now();
      native = await scriptJson<NativeNetmap>(
        NATIVE_BUILD,
        [
          "netmap",
          "--disk",
          image.disk,
          "--root-cache",
          ROOT_CACHE,
          "--out",
          path.join(runDir, "out"),
          "--timeout",
          String(NATIVE_TIMEOUT_MS / 1000),
          "--",
          "--path",
          FAKE_NETMAP,
          "--",
          "--config-key",
          CONFIG_KEY,
          "--kernel-release",
          image.kernelRelease,
          "--configure-arg",
          "--enable-ptnetmap",
        ],
        NATIVE_TIMEOUT_MS,
      );
      expect(native.build.kernelRelease).toBe(image.kernelRelease);
      const nativeSeconds = (Date.now() - t0) / 1000;

      const key = clientKey.public.trim();
      const seedArgs = (out: string, ...more: string[]): string[] => [
        "--format",
        "lab",
        "--out",
        out,
        "--hostname",
        VM,
        "--ssh-key",
        key,
        ...more,
      ];
      const withNetmap = ["--netmap-archive", native.archive, "--netmap-param", "ptnet_vnet_hdr=0"];
      const written = await scriptJson<SeedJson>(MAKE_SEED, seedArgs(seed, ...withNetmap), 60_000);
      expect(written).toMatchObject({
        path: seed,
        format: "lab",
        tool: "tar",
        changed: true,
        userDataSha256: null,
      });
      const again = await scriptJson<SeedJson>(MAKE_SEED, seedArgs(seed, ...withNetmap), 60_000);
      expect(again).toMatchObject({ changed: false, contentSha256: written.contentSha256 });

      // What the guest's nmtb-seed reads raw from the disk: a plain tar, owner 0, whole 512-byte blocks.
      const listing = await new Promise<string>((resolve, reject) =>
        execFile("tar", ["-tvf", seed], (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      const members = listing
        .trim()
        .split("\n")
        .map((line) => line.split(/\s+/));
      expect(members.map((words) => words[5]).sort()).toEqual([
        "hostname",
        "netmap-build.tgz",
        "netmap-build.tgz.sha256",
        "netmap.params",
        "setup",
        "user",
        "user_authorized_keys",
      ]);
      expect(new Set(members.map((words) => words[1]))).toEqual(new Set(["0/0"]));
      expect(readFileSync(seed).length % 512).toBe(0);

      // Cloud-init's netmap flags and the lab's do not mix; parameters are checked before use.
      const refusals: [string[], RegExp][] = [
        [
          ["--netmap-source-git", "https://github.com/luigirizzo/netmap", "--ref", "v14.0"],
          /for cloud-init seeds/,
        ],
        [["--netmap-param", "ptnet_vnet_hdr=0"], /--netmap-param needs --netmap-archive/],
        [[...withNetmap, "--netmap-param", "ptnet_vnet_hdr=1"], /ptnet_vnet_hdr is given twice/],
        [
          ["--netmap-archive", native.archive, "--netmap-param", "Ptnet=0"],
          /invalid --netmap-param name 'Ptnet'/,
        ],
        [
          ["--netmap-archive", native.archive, "--netmap-param", "a=$(reboot)"],
          /invalid --netmap-param value/,
        ],
      ];
      const bad = path.join(runDir, "refused.img");
      for (const [args, message] of refusals) {
        const r = await script(MAKE_SEED, seedArgs(bad, ...args), 60_000);
        expect({ args, code: r.code, refused: message.test(r.stderr) }).toEqual({
          args,
          code: 2,
          refused: true,
        });
      }
      const cloudInit = await script(
        MAKE_SEED,
        ["--format", "iso", "--out", bad, "--hostname", VM, "--ssh-key", key, ...withNetmap],
        60_000,
      );
      expect(cloudInit.code).toBe(2);
      expect(cloudInit.stderr).toMatch(/--netmap-archive needs --format lab/);
      process.stderr.write(
        `native stand-in netmap: ${nativeSeconds.toFixed(1)} s (built: ${String(native.build.built)}); ` +
          `seed ${written.contentSha256.slice(0, 12)}: ${readFileSync(seed).length} bytes\n`,
      );
    },
    NATIVE_TIMEOUT_MS + 120_000,
  );

  it(
    "boots with vm.sh; as netmap, with the console's host key pinned: netmap loaded with its parameter, tools, sudo",
    async () => {
      const build = nativeNetmap();
      sshPort = await freeTcpPort();
      const paths: VmPaths = {
        dir: stateDir,
        overlay: path.join(stateDir, "overlay.qcow2"),
        seed,
        serialLog: consoleLog(),
        qmpSocket: path.join(stateDir, "qmp.sock"),
        pidFile: path.join(stateDir, "qemu.pid"),
        // vm.sh links the stored image's kernel and initrd here at start.
        kernel: path.join(stateDir, "vmlinuz"),
        initrd: path.join(stateDir, "initrd.img"),
        unit: `netmap-testbed-vm-${VM}.service`,
      };
      const spec: VmSpec = {
        name: VM,
        host: "controller",
        image: "lab",
        cpus: 2,
        memoryMiB: 1024,
        hugepages: false,
        trust: "untrusted",
        nics: [],
      };
      const recipe: RecipeImageSpec = { kind: "recipe", name: "lab", recipe: "lab", os: "linux" };
      // No KVM for guests here: the planner's TCG argv (accel=tcg, -cpu max).
      const argv = argvForAccel(
        qemuArgv({ binary: QEMU, spec, image: recipe, nics: [], paths, sshForwardPort: sshPort }),
        "tcg",
      );
      // The image as the controller packs it and a host stores it (SFTP aside): the chain
      // GuestImage runs, with this run's own host cache.
      const packed = await scriptJson<{ archive: string; sha256: string; kernelRelease: string }>(
        PACK_IMAGE,
        ["--image-dir", image.dir],
        10 * 60_000,
      );
      expect(packed.kernelRelease).toBe(image.kernelRelease);
      const upload = path.join(runDir, "upload.tar");
      copyFileSync(packed.archive, upload);
      const hostCache = { NMTB_CACHE_DIR: path.join(runDir, "host-cache") };
      const stored = await scriptJson<StoredImage>(
        STORE_IMAGE,
        ["store", "--sha256", packed.sha256, "--from", upload],
        10 * 60_000,
        hostCache,
      );
      expect(stored).toMatchObject({ stored: true, kernelRelease: image.kernelRelease });
      expect(existsSync(upload)).toBe(false);
      const check = await script(STORE_IMAGE, ["check", "--sha256", packed.sha256], 60_000, hostCache);
      expect(check.code).toBe(0);

      const t0 = Date.now();
      started = true;
      const vm = await withConsole(() => startVm(stored, argv));
      expect(vm).toMatchObject({ ok: true, sshPort, sshReady: true, console: consoleLog() });
      const bootSeconds = (Date.now() - t0) / 1000;

      await withConsole(async () => {
        // nmtb-seed prints the keys before sshd starts; the banner came after.
        const hostKey = hostKeyFromConsole(readFileSync(consoleLog(), "utf8"));
        if (!hostKey) throw new Error("no host key between the console's SSH HOST KEY markers");
        expect(hostKey).toMatch(/^ssh-ed25519 /);
        session = new HostSession({
          name: VM,
          address: "127.0.0.1",
          port: sshPort,
          user: USER,
          hostKey,
          credentials: { privateKey: clientKey.private },
          connectTimeoutMs: 60_000,
          connectAttempts: 3,
          keepaliveIntervalMs: 0,
        });
        await session.connect();

        expect((await ok(["id", "-un"])).trim()).toBe(USER);
        expect((await ok(["hostname"])).trim()).toBe(VM);
        expect((await ok(["uname", "-r"])).trim()).toBe(image.kernelRelease);
        expect((await ok(["cat", "/run/nmtb-seed.setup"])).trim()).toBe("ok");
        expect(await ok(["cat", "/proc/modules"])).toMatch(/^netmap /m);
        expect(await ok(["sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; lsmod"])).toMatch(/^netmap\s/m);
        expect((await ok(["cat", "/sys/module/netmap/parameters/ptnet_vnet_hdr"])).trim()).toBe("0");
        expect((await ok(["/sbin/modinfo", "-n", "netmap"])).trim()).toBe(
          `/lib/modules/${image.kernelRelease}/extra/netmap.ko`,
        );
        expect(await ok(["cat", "/etc/modprobe.d/netmap-testbed.conf"])).toMatch(
          /^options netmap ptnet_vnet_hdr=0$/m,
        );
        // The stand-in's own tools, not netmap-tmpdir's or the -b variants.
        expect((await ok(["ls", "/opt/netmap-testbed/bin"])).trim().split("\n").sort()).toEqual(
          [...build.build.apps].sort(),
        );
        expect((await ok(["/opt/netmap-testbed/bin/pkt-gen"])).trim()).toBe(
          "pkt-gen (netmap-testbed stand-in)",
        );
        expect(await ok(["bash", "-lc", "command -v vale-ctl"])).toMatch(
          /^\/opt\/netmap-testbed\/bin\/vale-ctl$/m,
        );
        expect((await run(["sudo", "-n", "true"])).code).toBe(0);
        expect((await ok(["sudo", "-n", "id", "-u"])).trim()).toBe("0");
        // What nmtb-seed said in this boot, each of its runs.
        const seedJournal = (): Promise<string> =>
          ok(["sudo", "-n", "journalctl", "-u", "nmtb-seed", "-b", "-o", "cat", "--no-pager"]);
        const journal = await seedJournal();
        expect(journal).toMatch(
          new RegExp(
            `guest-setup: ok: user netmap; netmap for ${image.kernelRelease} loaded with ptnet_vnet_hdr=0`,
          ),
        );

        // nmtb-seed runs at every boot: a second run of the same seed changes nothing, reloads nothing.
        const before = await installedState();
        await ok(["sudo", "-n", "systemctl", "restart", "nmtb-seed"]);
        expect((await ok(["cat", "/run/nmtb-seed.setup"])).trim()).toBe("ok");
        expect(await installedState()).toBe(before);
        const rerun = await seedJournal();
        expect(
          rerun
            .trim()
            .split("\n")
            .filter((line) => line.startsWith("guest-setup: ok"))
            .pop(),
        ).toMatch(/changed: nothing$/);
      });
      process.stderr.write(`${VM}: vm.sh start to SSH in ${bootSeconds.toFixed(1)} s (TCG)\n`);
    },
    (2 * BOOT_TIMEOUT_S + 600) * 1000,
  );

  it(
    "guest-setup.sh refuses an archive that does not match its digest and a build for another kernel, installing nothing",
    async () => {
      const build = nativeNetmap();
      guest();
      await withConsole(async () => {
        const before = await installedState();

        const damaged = await runSetup(
          seed,
          `printf '%064d  netmap-build.tgz\\n' 0 > netmap-build.tgz.sha256`,
        );
        expect({ code: damaged.code, stderr: damaged.stderr }).toEqual({
          code: 1,
          stderr: expect.stringMatching(
            /netmap-build\.tgz has sha256 [0-9a-f]{64}, not 0{64} as the seed says \(a damaged seed\): nothing installed/,
          ),
        });
        expect(await installedState()).toBe(before);

        const archive = await otherKernelArchive(
          build.archive,
          build.buildKey,
          image.kernelRelease,
          path.join(runDir, "other-kernel"),
        );
        const otherSeed = path.join(runDir, "other-kernel-seed.img");
        await scriptJson<SeedJson>(
          MAKE_SEED,
          [
            "--format",
            "lab",
            "--out",
            otherSeed,
            "--hostname",
            VM,
            "--ssh-key",
            clientKey.public.trim(),
            "--netmap-archive",
            archive,
            "--netmap-param",
            "ptnet_vnet_hdr=1",
          ],
          60_000,
        );
        const refused = await runSetup(otherSeed);
        // One line that says it all, and nothing else.
        expect({ code: refused.code, stderr: refused.stderr }).toEqual({
          code: 1,
          stderr: expect.stringMatching(
            new RegExp(
              `^guest-setup: error: netmap build is for kernel ${otherRelease(image.kernelRelease)}, ` +
                `this guest runs ${image.kernelRelease}: [^\n]*nothing installed\n$`,
            ),
          ),
        });
        expect(await installedState()).toBe(before);
      });
    },
    10 * 60_000,
  );
});
