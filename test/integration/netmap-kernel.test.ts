/**
 * Kernel builds end to end on a real Debian guest with its own kernel: the very scripts of
 * `kernel-builds/netmap/` (prepare → fetch → build → install → load → persist → reboot →
 * teardown) driven against the stand-in source tree `test/fixtures/fake-netmap/` (netmap's
 * source cannot be downloaded here). The test NIC is `dummy0`, created by the stock `dummy`
 * driver (`options dummy numdummies=1`); the stand-in "patched" dummy driver takes its place.
 * The management NIC is eth0 (virtio_net), which the scripts must refuse to touch.
 *
 * Also: a failing build leaves the host unchanged, a failing load rolls back to the stock
 * driver, an unchanged build key does no work and a changed key rebuilds, and a boot with the
 * build missing rebuilds it from the cache (what happens after a kernel upgrade).
 *
 * Talks to the guest through the project's HostSession with its pinned host key
 * (test/support/guest-session.ts). Warm image: ~4-6 min under TCG.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { HostConnectionError, type RunResult } from "../../components/host";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { GuestSession, explainFailure, lastJson } from "../support/guest-session";

const ROOT = path.resolve(__dirname, "..", "..");
const REMOTE = "/root/nmtb";
const S = `${REMOTE}/kernel-builds/netmap`;
const FAKE = `${REMOTE}/test/fixtures/fake-netmap`;
const COMMAND_TIMEOUT_MS = 300_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("kernel builds: netmap scripts on a Debian guest (stand-in source tree)", () => {
  let host: GuestHost;
  let guest: GuestSession | undefined;
  let release = "";
  let sourceDir = "";
  let commit = "";
  let buildDir = "";

  const open = (connectTimeoutMs?: number): Promise<GuestSession> =>
    GuestSession.open(host, {
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    });

  function session(): GuestSession {
    if (!guest) throw new Error("no SSH session to the guest");
    return guest;
  }

  /** Runs `argv`; resolves with its stdout, or fails with its output and the console tail unless it exits 0. */
  const sh = (argv: readonly string[], timeoutMs?: number): Promise<string> =>
    session().ok(argv, timeoutMs !== undefined ? { timeoutMs } : {});

  /** Runs a script with argv; returns the raw result (the caller checks the exit code). */
  function script(name: string, args: readonly string[], timeoutMs?: number): Promise<RunResult> {
    return session().run([`${S}/${name}`, ...args], timeoutMs !== undefined ? { timeoutMs } : {});
  }

  async function scriptOk<T>(name: string, args: readonly string[], timeoutMs?: number): Promise<T> {
    const r = await script(name, args, timeoutMs);
    if (r.code !== 0) throw new Error(explainFailure(host, `${name} ${args.join(" ")}`, r));
    return lastJson<T>(r.stdout);
  }

  /** Whether `p` exists on the guest (`test -e`). */
  const exists = async (p: string): Promise<boolean> => (await session().run(["test", "-e", p])).code === 0;

  /** Module names and each interface's driver: what the scripts must leave as they found it. */
  async function snapshot(): Promise<{ modules: string[]; dummy0: string; eth0: string }> {
    const modules = (await sh(["cut", "-d", " ", "-f1", "/proc/modules"])).trim().split("\n").sort();
    const drv = async (ifname: string): Promise<string> =>
      (
        await sh([
          "bash",
          "-c",
          '. "$1"; nmtb_iface_module "$2"',
          "bash",
          `${REMOTE}/kernel-builds/lib/common.sh`,
          ifname,
        ])
      ).trim();
    return { modules, dummy0: await drv("dummy0"), eth0: await drv("eth0") };
  }

  const moduleLoaded = (m: string): Promise<boolean> => exists(`/sys/module/${m}/initstate`);
  const holdsNetmap = (m: string): Promise<boolean> => exists(`/sys/module/netmap/holders/${m}`);

  let before: { modules: string[]; dummy0: string; eth0: string };

  beforeAll(async () => {
    [host] = await startGuestHosts({ names: ["nmtb-kernel"] });
    guest = await open();
    release = (await sh(["uname", "-r"])).trim();
    // The scripts and the stand-in tree, as the deploy would ship them.
    const tgz = execFileSync(
      "tar",
      ["-C", ROOT, "-czf", "-", "kernel-builds/lib", "kernel-builds/netmap", "test/fixtures/fake-netmap"],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await sh(["rm", "-rf", REMOTE]);
    await sh(["mkdir", "-p", REMOTE]);
    await session().ok(["tar", "-xzf", "-", "-C", REMOTE], { stdin: tgz });
    // The test NIC: dummy0 from the stock dummy driver; modprobe.d makes any dummy create it
    // ("zz-" so it sorts after systemd's own "options dummy numdummies=0").
    await session().ok(["tee", "/etc/modprobe.d/zz-nmtb-test-dummy.conf"], {
      stdin: "options dummy numdummies=1\n",
    });
    await sh(["modprobe", "dummy"]);
    // A host managed over a bridge has the bridge module loaded (the guard test below builds one).
    await sh(["modprobe", "bridge"]);
    await sh([
      "bash",
      "-c",
      'for i in $(seq 50); do test -e "$1" && exit 0; sleep 0.2; done; exit 1',
      "bash",
      "/sys/class/net/dummy0",
    ]);
    before = await snapshot();
  }, 15 * 60_000);

  afterAll(async () => {
    if (guest) {
      // Best effort: leave nothing loaded even when a test failed half-way.
      await guest
        .run([`${S}/teardown.sh`, "--keep-cache", "0"], { timeoutMs: 120_000 })
        .catch(() => undefined);
      await guest.close();
    }
    if (host) await host.stop();
  }, 180_000);

  it("prepare: reports the distro, the kernel and its headers, and records the baseline once", async () => {
    expect(before.dummy0).toBe("dummy");
    expect(before.eth0).toBe("virtio_net");
    const first = await scriptOk<{
      distro: string;
      kernelRelease: string;
      headers: boolean;
      baseline: { created: boolean; nics: { name: string; module: string }[] };
    }>("prepare.sh", ["--install-deps", "0"]);
    expect(first.distro).toBe("debian");
    expect(first.kernelRelease).toBe(release);
    expect(first.headers).toBe(true);
    expect(first.baseline.created).toBe(true);
    expect(first.baseline.nics).toEqual(
      expect.arrayContaining([
        { name: "eth0", module: "virtio_net" },
        { name: "dummy0", module: "dummy" },
      ]),
    );
    const again = await scriptOk<{ baseline: { created: boolean } }>("prepare.sh", ["--install-deps", "0"]);
    expect(again.baseline.created).toBe(false);
  }, 120_000);

  it("fetch: copies a source directory into the cache and names it by content", async () => {
    const r = await scriptOk<{ sourceDir: string; commit: string; kind: string }>("fetch.sh", [
      "--path",
      FAKE,
    ]);
    expect(r.kind).toBe("dir");
    expect(r.commit).toMatch(/^sha256:[0-9a-f]{64}$/);
    sourceDir = r.sourceDir;
    commit = r.commit;
    const again = await scriptOk<{ sourceDir: string; commit: string }>("fetch.sh", ["--path", FAKE]);
    expect(again).toMatchObject({ sourceDir, commit });
  }, 60_000);

  it("load: refuses to swap the management interface's driver", async () => {
    const r = await script("load.sh", ["--management-interface", "eth0", "--nic", "dummy0:virtio_net"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to swap driver virtio_net: it drives the management interface eth0/);
    expect(await moduleLoaded("virtio_net")).toBe(true);
  }, 60_000);

  it("load: the guard follows a bridge to the NIC beneath, and the SSH session's own interface", async () => {
    // A host managed over a bridge whose port is a NIC of the test NICs' driver (dummy here).
    await sh([
      "bash",
      "-c",
      "ip link add nmtb-br0 type bridge && ip link add nmtb-low0 type dummy && " +
        "ip link set nmtb-low0 master nmtb-br0 && ip link set nmtb-low0 up && ip link set nmtb-br0 up",
    ]);
    try {
      const bridged = await script("load.sh", [
        "--management-interface",
        "nmtb-br0",
        "--nic",
        "dummy0:dummy",
      ]);
      expect(bridged.code).not.toBe(0);
      expect(bridged.stderr).toMatch(
        /refusing to swap driver dummy: it drives nmtb-low0 under the management interface nmtb-br0/,
      );
      // Declared elsewhere, but this SSH session arrives on eth0: its driver is refused too.
      const session = await script("load.sh", [
        "--management-interface",
        "nmtb-br0",
        "--nic",
        "eth0:virtio_net",
      ]);
      expect(session.code).not.toBe(0);
      expect(session.stderr).toMatch(
        /refusing to swap driver virtio_net: it drives eth0, which carries this SSH session/,
      );
      // Nothing changed: both drivers still loaded, no netmap.
      expect(await moduleLoaded("dummy")).toBe(true);
      expect(await moduleLoaded("virtio_net")).toBe(true);
      expect(await moduleLoaded("netmap")).toBe(false);
    } finally {
      await sh(["bash", "-c", "ip link del nmtb-br0 2>/dev/null; ip link del nmtb-low0 2>/dev/null; true"]);
    }
  }, 60_000);

  it("a failing build (broken driver) leaves the host unchanged", async () => {
    const r = await script(
      "build.sh",
      [
        "--source-dir",
        sourceDir,
        "--commit",
        commit,
        "--config-key",
        "broken",
        "--driver",
        "dummy.c",
        "--driver",
        "broken.c",
      ],
      600_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/build failed: make exited with an error/);
    expect(r.stderr).toMatch(/broken\.c is meant to fail/);
    // No build dir left behind, nothing installed, nothing loaded.
    // `ls` output only, whatever its exit code (a missing directory lists nothing).
    const builds = (await session().run(["ls", "/var/cache/netmap-testbed/build"])).stdout;
    expect(builds.split("\n").filter((l) => l !== "" && !/\.log$|\.lock$/.test(l))).toEqual([]);
    expect(await exists(`/lib/modules/${release}/extra/netmap-testbed`)).toBe(false);
    expect((await session().run(["ls", "/etc/depmod.d"])).stdout).not.toMatch(/netmap-testbed/);
    expect(await snapshot()).toEqual(before);
  }, 700_000);

  it("build: builds once per key; the same key does no work, a changed key rebuilds", async () => {
    const args = ["--source-dir", sourceDir, "--commit", commit, "--driver", "dummy.c"];
    const first = await scriptOk<{
      buildKey: string;
      buildDir: string;
      built: boolean;
      modules: string[];
      apps: string[];
    }>("build.sh", [...args, "--config-key", "k1"], 600_000);
    expect(first.built).toBe(true);
    expect(first.modules).toEqual(["dummy", "netmap"]);
    expect(first.apps).toEqual(expect.arrayContaining(["vale-ctl", "pkt-gen", "bridge", "lb"]));
    buildDir = first.buildDir;
    const stamps = ["stat", "-c", "%Y.%i", `${buildDir}/.nmtb-built`, `${buildDir}/netmap.ko`];
    const stampBefore = await sh(stamps);
    const second = await scriptOk<{ buildKey: string; built: boolean }>("build.sh", [
      ...args,
      "--config-key",
      "k1",
    ]);
    expect(second).toMatchObject({ buildKey: first.buildKey, built: false });
    expect(await sh(stamps)).toBe(stampBefore);
    const other = await scriptOk<{ buildKey: string; built: boolean }>(
      "build.sh",
      [...args, "--config-key", "k2"],
      600_000,
    );
    expect(other.built).toBe(true);
    expect(other.buildKey).not.toBe(first.buildKey);
    // configure's report must match the request: a driver it does not know fails the build.
    const unknown = await script("build.sh", [...args, "--driver", "ixgbe", "--config-key", "k3"], 300_000);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /configure will build drivers \[dummy\.c\] but \[dummy\.c ixgbe\] were asked/,
    );
  }, 1_500_000);

  it("install: modules under extra/netmap-testbed win through the depmod override; vermagic and depends checked", async () => {
    const r = await scriptOk<{
      modules: string[];
      patchedDrivers: string[];
      tools: string[];
      changed: boolean;
    }>("install.sh", ["--build-dir", buildDir, "--kernel-release", release], 300_000);
    expect(r).toMatchObject({ modules: ["dummy", "netmap"], patchedDrivers: ["dummy"], changed: true });
    expect(r.tools).toEqual(expect.arrayContaining(["vale-ctl", "pkt-gen"]));
    expect((await sh(["modinfo", "-n", "dummy"])).trim()).toBe(
      `/lib/modules/${release}/extra/netmap-testbed/dummy.ko`,
    );
    expect((await sh(["modinfo", "-F", "depends", "dummy"])).trim()).toBe("netmap");
    expect(await sh(["cat", `/etc/depmod.d/netmap-testbed-${release}.conf`])).toMatch(
      /^override dummy \S+ extra\/netmap-testbed$/m,
    );
    expect(await sh(["/opt/netmap-testbed/bin/pkt-gen"])).toMatch(/pkt-gen/);
    const again = await scriptOk<{ changed: boolean }>("install.sh", [
      "--build-dir",
      buildDir,
      "--kernel-release",
      release,
    ]);
    expect(again.changed).toBe(false);
    // Installing changed files only: nothing is loaded yet.
    expect(await snapshot()).toEqual(before);
  }, 400_000);

  it("a failing load rolls back to the stock driver", async () => {
    // netmap refuses the value at load time: the stock dummy is already unloaded by then.
    const r = await script("load.sh", [
      "--management-interface",
      "eth0",
      "--nic",
      "dummy0:dummy",
      "--param",
      "max_bridges=abc",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/modprobe netmap max_bridges=abc failed/);
    expect(r.stderr).toMatch(/rolled back to the stock drivers/);
    expect(await moduleLoaded("netmap")).toBe(false);
    expect(await holdsNetmap("dummy")).toBe(false);
    expect(await snapshot()).toEqual(before);
  }, 300_000);

  it("load: swaps dummy0 to the patched driver with netmap's parameters; a second load is a no-op", async () => {
    const args = [
      "--management-interface",
      "eth0",
      "--nic",
      "dummy0:dummy",
      "--param",
      "max_bridges=4",
      "--param",
      "ptnet_vnet_hdr=0",
    ];
    const r = await scriptOk<{
      changed: boolean;
      nics: { name: string; driver: string; patched: boolean }[];
    }>("load.sh", args, 300_000);
    expect(r.changed).toBe(true);
    expect(r.nics).toEqual([{ name: "dummy0", driver: "dummy", patched: true }]);
    expect((await sh(["cat", "/sys/module/netmap/parameters/max_bridges"])).trim()).toBe("4");
    expect((await sh(["cat", "/sys/module/netmap/parameters/ptnet_vnet_hdr"])).trim()).toBe("0");
    expect(await holdsNetmap("dummy")).toBe(true);
    expect(await sh(["dmesg"])).toMatch(
      /dummy0[^\n]*: netmap-testbed stand-in: native netmap adapter attached/,
    );
    const again = await scriptOk<{ changed: boolean }>("load.sh", args);
    expect(again.changed).toBe(false);
    const status = await scriptOk<{ present: boolean; netmapLoaded: boolean }>("status.sh", []);
    expect(status).toMatchObject({ present: true, netmapLoaded: true });
  }, 400_000);

  it("persist: after a reboot (with the build gone, as after a kernel upgrade) the unit rebuilds, installs and loads in order", async () => {
    const p = await scriptOk<{ enabled: boolean }>("persist.sh", ["apply"]);
    expect(p.enabled).toBe(true);
    expect((await scriptOk<{ changed: boolean }>("persist.sh", ["apply"])).changed).toBe(false);
    expect((await sh(["cat", "/etc/modprobe.d/netmap-testbed.conf"])).trim()).toMatch(
      /^options netmap max_bridges=4 ptnet_vnet_hdr=0$/m,
    );
    // Remove the installed build: the boot unit must notice and rebuild from the cache.
    await sh([
      "rm",
      "-rf",
      `/lib/modules/${release}/extra/netmap-testbed`,
      `/etc/depmod.d/netmap-testbed-${release}.conf`,
    ]);
    await sh(["depmod", "-a"]);
    const bootId = (await sh(["cat", "/proc/sys/kernel/random/boot_id"])).trim();
    const rebooting = session();
    guest = undefined;
    await rebooting
      .run(["bash", "-c", "nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &"], { timeoutMs: 20_000 })
      .catch((error: unknown) => {
        // The reboot may take the connection down before the exit status arrives.
        if (!(error instanceof HostConnectionError && error.failure === "connection-lost")) throw error;
      });
    await rebooting.close();
    // Bounded wait for SSH with the same pinned key and a new boot id.
    const deadline = Date.now() + 420_000;
    while (Date.now() < deadline) {
      await sleep(3000);
      let candidate: GuestSession | undefined;
      try {
        candidate = await open(15_000);
        const id = (
          await candidate.run(["cat", "/proc/sys/kernel/random/boot_id"], { timeoutMs: 15_000 })
        ).stdout.trim();
        if (id && id !== bootId) {
          guest = candidate;
          break;
        }
      } catch {
        // still rebooting
      }
      await candidate?.close();
    }
    if (!guest) throw new Error(`guest did not come back after reboot\n${host.consoleTail(40)}`);
    // The unit is a oneshot: wait until it has finished (bounded).
    await sh(
      [
        "bash",
        "-c",
        'for i in $(seq 600); do s=$(systemctl show -p ActiveState --value "$1.service"); ' +
          '[ "$s" = active ] && exit 0; [ "$s" = failed ] && { journalctl -b -u "$1" --no-pager | tail -40 >&2; exit 1; }; sleep 1; done; exit 1',
        "bash",
        "netmap-testbed-modules",
      ],
      660_000,
    );
    const journal = await sh(["journalctl", "-b", "-u", "netmap-testbed-modules", "--no-pager"]);
    expect(journal).toMatch(/has no netmap-testbed build installed/);
    expect((await sh(["modinfo", "-n", "dummy"])).trim()).toBe(
      `/lib/modules/${release}/extra/netmap-testbed/dummy.ko`,
    );
    expect((await sh(["cat", "/sys/module/netmap/parameters/max_bridges"])).trim()).toBe("4");
    expect(await holdsNetmap("dummy")).toBe(true);
    const dmesg = await sh(["dmesg"]);
    const netmapAt = dmesg.search(/netmap: loaded module/);
    const attachedAt = dmesg.search(/dummy0[^\n]*: netmap-testbed stand-in: native netmap adapter attached/);
    expect(netmapAt).toBeGreaterThanOrEqual(0);
    expect(attachedAt).toBeGreaterThan(netmapAt);
    expect((await scriptOk<{ present: boolean }>("status.sh", [])).present).toBe(true);
  }, 1_500_000);

  it("teardown: restores the stock drivers and checks the baseline; a second teardown is a no-op", async () => {
    const r = await scriptOk<{
      clean: boolean;
      baseline: boolean;
      differences: string[];
      unloaded: string[];
    }>("teardown.sh", ["--keep-cache", "1"], 300_000);
    expect(r).toMatchObject({ clean: true, baseline: true, differences: [] });
    expect(r.unloaded).toEqual(expect.arrayContaining(["dummy", "netmap"]));
    const now = await snapshot();
    expect(now.dummy0).toBe("dummy");
    expect(now.eth0).toBe("virtio_net");
    expect(await moduleLoaded("netmap")).toBe(false);
    expect(await holdsNetmap("dummy")).toBe(false);
    expect((await session().run(["ls", "/etc/depmod.d", "/etc/systemd/system"])).stdout).not.toMatch(
      /netmap-testbed/,
    );
    expect((await sh(["modinfo", "-n", "dummy"])).trim()).not.toMatch(/netmap-testbed/);
    const again = await scriptOk<{ clean: boolean; baseline: boolean }>("teardown.sh", ["--keep-cache", "1"]);
    expect(again).toMatchObject({ clean: true, baseline: false });
  }, 400_000);
});
