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
 * Talks ssh2 directly with the guest's pinned host key. Warm image: ~4-6 min under TCG.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { Client } from "ssh2";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";

const ROOT = path.resolve(__dirname, "..", "..");
const REMOTE = "/root/nmtb";
const S = `${REMOTE}/kernel-builds/netmap`;
const FAKE = `${REMOTE}/test/fixtures/fake-netmap`;

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Quotes one argument for the remote POSIX shell. */
function q(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function cmd(argv: readonly string[]): string {
  return argv.map(q).join(" ");
}

function blobOf(hostKeyLine: string): Buffer {
  const parts = hostKeyLine.trim().split(/\s+/);
  if (parts.length < 2) throw new Error(`not a host key line: ${hostKeyLine}`);
  return Buffer.from(parts[1]!, "base64");
}

function connect(host: GuestHost, timeoutMs = 30_000): Promise<Client> {
  const expected = blobOf(host.hostKey);
  return new Promise((resolve, reject) => {
    const client = new Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`${host.name}: ssh connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    client
      .on("ready", () => {
        clearTimeout(timer);
        resolve(client);
      })
      .on("error", (err) => {
        clearTimeout(timer);
        client.end();
        reject(err);
      })
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: host.privateKey,
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: ["ssh-ed25519"] },
        hostVerifier: (key: Buffer) => key.equals(expected),
      });
  });
}

function run(client: Client, command: string, input?: string, timeoutMs = 300_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        stream.close();
        reject(new Error(`'${command}' timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on("data", (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      stream.on("close", (code: number | null) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      stream.end(input ?? "");
    });
  });
}

function lastJson<T>(stdout: string): T {
  const line = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .pop();
  if (!line) throw new Error(`no JSON on stdout:\n${stdout}`);
  return JSON.parse(line) as T;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("kernel builds: netmap scripts on a Debian guest (stand-in source tree)", () => {
  let host: GuestHost;
  let client: Client;
  let release = "";
  let sourceDir = "";
  let commit = "";
  let buildDir = "";

  function explain(what: string, r: ExecResult): string {
    return (
      `${what} exited ${String(r.code)}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-4000)}\n` +
      `--- console tail of ${host.name} ---\n${host.consoleTail(30)}`
    );
  }

  /** Runs a shell command; fails with its output and the console tail unless it exits 0. */
  async function sh(command: string, input?: string, timeoutMs?: number): Promise<string> {
    const r = await run(client, command, input, timeoutMs);
    if (r.code !== 0) throw new Error(explain(command, r));
    return r.stdout;
  }

  /** Runs a script with argv; returns the raw result (the caller checks the exit code). */
  function script(name: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult> {
    return run(client, cmd([`${S}/${name}`, ...args]), undefined, timeoutMs);
  }

  async function scriptOk<T>(name: string, args: readonly string[], timeoutMs?: number): Promise<T> {
    const r = await script(name, args, timeoutMs);
    if (r.code !== 0) throw new Error(explain(`${name} ${args.join(" ")}`, r));
    return lastJson<T>(r.stdout);
  }

  /** Module names and each interface's driver: what the scripts must leave as they found it. */
  async function snapshot(): Promise<{ modules: string[]; dummy0: string; eth0: string }> {
    const modules = (await sh("cut -d' ' -f1 /proc/modules | sort")).trim().split("\n");
    const drv = async (ifname: string): Promise<string> =>
      (await sh(`. ${REMOTE}/kernel-builds/lib/common.sh; nmtb_iface_module ${ifname}`)).trim();
    return { modules, dummy0: await drv("dummy0"), eth0: await drv("eth0") };
  }

  const moduleLoaded = async (m: string): Promise<boolean> =>
    (await run(client, `test -e /sys/module/${m}/initstate`)).code === 0;
  const holdsNetmap = async (m: string): Promise<boolean> =>
    (await run(client, `test -e /sys/module/netmap/holders/${m}`)).code === 0;

  let before: { modules: string[]; dummy0: string; eth0: string };

  beforeAll(async () => {
    [host] = await startGuestHosts({ names: ["nmtb-kernel"] });
    client = await connect(host);
    release = (await sh("uname -r")).trim();
    // The scripts and the stand-in tree, as the deploy would ship them.
    const tgz = execFileSync(
      "tar",
      ["-C", ROOT, "-czf", "-", "kernel-builds/lib", "kernel-builds/netmap", "test/fixtures/fake-netmap"],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await sh(
      `rm -rf ${REMOTE} && mkdir -p ${REMOTE} && base64 -d | tar -xzf - -C ${REMOTE}`,
      tgz.toString("base64"),
    );
    // The test NIC: dummy0 from the stock dummy driver; modprobe.d makes any dummy create it
    // ("zz-" so it sorts after systemd's own "options dummy numdummies=0").
    await sh("echo 'options dummy numdummies=1' > /etc/modprobe.d/zz-nmtb-test-dummy.conf && modprobe dummy");
    await sh("for i in $(seq 50); do test -e /sys/class/net/dummy0 && exit 0; sleep 0.2; done; exit 1");
    before = await snapshot();
  }, 15 * 60_000);

  afterAll(async () => {
    if (client) {
      // Best effort: leave nothing loaded even when a test failed half-way.
      await run(client, `${S}/teardown.sh --keep-cache 0`, undefined, 120_000).catch(() => undefined);
      client.end();
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
    expect(await sh("ls /var/cache/netmap-testbed/build | grep -v '\\.log$\\|\\.lock$' || true")).toBe("");
    expect((await run(client, `test -e /lib/modules/${release}/extra/netmap-testbed`)).code).not.toBe(0);
    expect(await sh("ls /etc/depmod.d 2>/dev/null || true")).not.toMatch(/netmap-testbed/);
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
    const stampBefore = await sh(`stat -c %Y.%i ${q(buildDir)}/.nmtb-built ${q(buildDir)}/netmap.ko`);
    const second = await scriptOk<{ buildKey: string; built: boolean }>("build.sh", [
      ...args,
      "--config-key",
      "k1",
    ]);
    expect(second).toMatchObject({ buildKey: first.buildKey, built: false });
    expect(await sh(`stat -c %Y.%i ${q(buildDir)}/.nmtb-built ${q(buildDir)}/netmap.ko`)).toBe(stampBefore);
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
    expect((await sh("modinfo -n dummy")).trim()).toBe(
      `/lib/modules/${release}/extra/netmap-testbed/dummy.ko`,
    );
    expect((await sh("modinfo -F depends dummy")).trim()).toBe("netmap");
    expect(await sh("cat /etc/depmod.d/netmap-testbed-$(uname -r).conf")).toMatch(
      /^override dummy \S+ extra\/netmap-testbed$/m,
    );
    expect(await sh("/opt/netmap-testbed/bin/pkt-gen")).toMatch(/pkt-gen/);
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
    expect((await sh("cat /sys/module/netmap/parameters/max_bridges")).trim()).toBe("4");
    expect((await sh("cat /sys/module/netmap/parameters/ptnet_vnet_hdr")).trim()).toBe("0");
    expect(await holdsNetmap("dummy")).toBe(true);
    expect(await sh("dmesg")).toMatch(
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
    expect((await sh("cat /etc/modprobe.d/netmap-testbed.conf")).trim()).toMatch(
      /^options netmap max_bridges=4 ptnet_vnet_hdr=0$/m,
    );
    // Remove the installed build: the boot unit must notice and rebuild from the cache.
    await sh(
      `rm -rf /lib/modules/${release}/extra/netmap-testbed /etc/depmod.d/netmap-testbed-${release}.conf && depmod -a`,
    );
    const bootId = (await sh("cat /proc/sys/kernel/random/boot_id")).trim();
    await run(client, "nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &", undefined, 20_000);
    client.end();
    // Bounded wait for SSH with the same pinned key and a new boot id.
    const deadline = Date.now() + 420_000;
    let connected: Client | undefined;
    while (Date.now() < deadline) {
      await sleep(3000);
      try {
        const c = await connect(host, 15_000);
        const id = (await run(c, "cat /proc/sys/kernel/random/boot_id", undefined, 15_000)).stdout.trim();
        if (id && id !== bootId) {
          connected = c;
          break;
        }
        c.end();
      } catch {
        // still rebooting
      }
    }
    if (!connected) throw new Error(`guest did not come back after reboot\n${host.consoleTail(40)}`);
    client = connected;
    // The unit is a oneshot: wait until it has finished (bounded).
    await sh(
      "for i in $(seq 600); do s=$(systemctl show -p ActiveState --value netmap-testbed-modules.service); " +
        '[ "$s" = active ] && exit 0; [ "$s" = failed ] && { journalctl -b -u netmap-testbed-modules --no-pager | tail -40 >&2; exit 1; }; sleep 1; done; exit 1',
      undefined,
      660_000,
    );
    const journal = await sh("journalctl -b -u netmap-testbed-modules --no-pager");
    expect(journal).toMatch(/has no netmap-testbed build installed/);
    expect((await sh("modinfo -n dummy")).trim()).toBe(
      `/lib/modules/${release}/extra/netmap-testbed/dummy.ko`,
    );
    expect((await sh("cat /sys/module/netmap/parameters/max_bridges")).trim()).toBe("4");
    expect(await holdsNetmap("dummy")).toBe(true);
    const dmesg = await sh("dmesg");
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
    expect(await sh("ls /etc/depmod.d /etc/systemd/system 2>/dev/null || true")).not.toMatch(
      /netmap-testbed/,
    );
    expect((await sh("modinfo -n dummy")).trim()).not.toMatch(/netmap-testbed/);
    const again = await scriptOk<{ clean: boolean; baseline: boolean }>("teardown.sh", ["--keep-cache", "1"]);
    expect(again).toMatchObject({ clean: true, baseline: false });
  }, 400_000);
});
