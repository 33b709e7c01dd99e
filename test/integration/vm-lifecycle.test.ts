/**
 * The VM lifecycle of `kernel-builds/vm/vm.sh`, for real: on a Debian guest host (QEMU TCG with
 * `-cpu max`, systemd as PID 1) Debian's own `qemu-system-x86` stands in for the ptnet QEMU and
 * runs the planner's argv (`qemuArgv` from components/plan/vm.ts) as a systemd unit. The inner
 * guest is tiny (test/fixtures/tiny-guest): the guest host's own kernel plus an initramfs with
 * busybox (init, DHCP, acpid) and dropbear, built inside the guest host with a host key made
 * before boot, so it answers SSH within seconds and powers off on the ACPI power button.
 *
 * Covered: an argv that does not use the VM's files is refused and changes nothing; start waits
 * for the SSH banner and leaves an active unit; status reads back present/running and the exact
 * argv; the inner guest is reached over SSH through the guest host with the project's
 * HostSession (pinned host key); start is idempotent and refuses a different argv; stop powers
 * down over QMP (graceful) and removes unit and overlay; start after stop works; a guest that
 * ignores the power button is killed after --timeout; a boot that never answers SSH (kernel
 * panic) fails with the console tail in the JSON error and leaves nothing running.
 *
 * Nested KVM only where it is real: when the guest host itself runs under KVM, `-cpu max` gives
 * it hardware SVM/VMX, `/dev/kvm` exists there, and the planner's `accel=kvm,kernel_irqchip=on` +
 * `-cpu host` are used unchanged. When the guest host runs under TCG its SVM is emulated too, and
 * a nested KVM guest on it stalled for minutes in CI (a second boot never reached SSH and took the
 * guest host's sshd with it); there the test substitutes exactly those two values with TCG ones
 * and says so.
 *
 * Timings are printed at the end (warm base image, under TCG): see the report in the output.
 */
import { execFileSync } from "node:child_process";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import path from "node:path";
import { Client, utils as sshUtils } from "ssh2";

import { HostSession, type RunResult } from "../../components/host";
import { argvForAccel, qemuArgv, SSH_FORWARD_PORT_BASE, vmPaths } from "../../components/plan/vm";
import type { VmSpec } from "../../components/topology/model";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { TEST_IMAGE } from "../support/plan-test-model";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where the scripts go on the guest host (the layout of a deployed bundle). */
const BUNDLE = "/opt/netmap-testbed/scripts/vm-lifecycle-test";
const VM_SH = `${BUNDLE}/kernel-builds/vm/vm.sh`;
const QEMU = "/usr/bin/qemu-system-x86_64";
const BASE_IMAGE = "/var/cache/netmap-testbed/images/tiny-base.raw";
const TINY_DIR = "/root/tiny-guest";
const PACKAGES = [
  "qemu-system-x86",
  "qemu-utils",
  "python3",
  // The tiny guest's initramfs, and make-seed.sh's ISO tool.
  "busybox-static",
  "dropbear-bin",
  "cpio",
  "genisoimage",
];

interface VmJson {
  ok?: boolean;
  error?: string;
  consoleTail?: string | null;
  present?: boolean;
  running?: boolean;
  pid?: number | null;
  unit?: string | null;
  systemd?: boolean;
  sshPort?: number | null;
  sshReady?: boolean;
  argv?: string[] | null;
  overlay?: string | null;
  console?: string | null;
  activeState?: string | null;
  changed?: boolean;
  graceful?: boolean;
  killed?: boolean;
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

const tailOf = (text: string, chars = 3000): string => (text.length > chars ? text.slice(-chars) : text);
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** One inner VM: the planner's argv plus what the tiny guest needs to boot. */
interface InnerVm {
  name: string;
  sshPort: number;
  paths: ReturnType<typeof vmPaths>;
  argv: string[];
}

describe("vm.sh: VM lifecycle on a guest host (Debian's QEMU standing in for the ptnet build)", () => {
  let host: GuestHost | undefined;
  let session: HostSession;
  let tunnelClient: Client | undefined;
  let tunnelServer: Server | undefined;
  const innerSessions: HostSession[] = [];
  const timings: [string, number][] = [];
  const started = Date.now();
  let kvm = false;
  let kernel = "";
  let tiny: { initramfs: string; hostKey: string };
  const clientKey = sshUtils.generateKeyPairSync("ed25519", { comment: "nmtb-vm-lifecycle" });

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timings.push([label, Date.now() - t0]);
    }
  }

  /** The guest host's console and the inner VMs' console logs, for failure messages (bounded). */
  async function context(): Promise<string> {
    const own = `--- console tail of guest host ${host?.name ?? "?"} ---\n${host?.consoleTail(40) ?? ""}`;
    let timer: NodeJS.Timeout | undefined;
    const inner = await Promise.race([
      session
        .run(
          "console tails",
          [
            "bash",
            "-c",
            'for f in /var/lib/netmap-testbed/vms/*/console.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done; true',
          ],
          { timeoutMs: 15_000 },
        )
        .then((r) => r.stdout)
        .catch((e: unknown) => `(cannot read the inner consoles: ${String(e)})`),
      new Promise<string>((resolve) => {
        timer = setTimeout(
          () => resolve("(cannot read the inner consoles: guest host not answering)"),
          20_000,
        );
      }),
    ]);
    clearTimeout(timer);
    return `${own}\n${inner}`;
  }

  /** A test whose failure message carries the console tails, whatever failed (also lost connections). */
  const itc = (name: string, work: () => Promise<void>, timeoutMs: number): void =>
    it(
      name,
      async () => {
        try {
          await work();
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          if (message.includes("--- console tail of guest host")) throw e;
          const wrapped = new Error(`${message}\n${await context()}`);
          wrapped.stack = `${wrapped.message}\n${e instanceof Error ? (e.stack ?? "") : ""}`;
          throw wrapped;
        }
      },
      timeoutMs + 30_000,
    );

  async function explain(what: string, r: RunResult): Promise<Error> {
    return new Error(
      `${what} exited ${String(r.code)}\nstdout:\n${tailOf(r.stdout)}\nstderr:\n${tailOf(r.stderr)}\n${await context()}`,
    );
  }

  /** Runs argv on the guest host; fails with its output and the console tails unless it exits 0. */
  async function must(step: string, argv: string[], timeoutMs = 120_000, stdin?: Buffer): Promise<string> {
    const r = await session.run(step, argv, { timeoutMs, ...(stdin ? { stdin } : {}) });
    if (r.code !== 0) throw await explain(`${step}: ${argv.join(" ")}`, r);
    return r.stdout;
  }

  const sh = (step: string, script: string, timeoutMs?: number): Promise<string> =>
    must(step, ["bash", "-c", script], timeoutMs);

  /** vm.sh with its exit code and JSON (when it printed one). */
  async function vmSh(args: string[], timeoutMs = 240_000): Promise<{ r: RunResult; json: VmJson }> {
    const r = await session.run(`vm.sh ${args[0] ?? ""}`, [VM_SH, ...args], { timeoutMs });
    let json: VmJson = {};
    try {
      json = lastJson<VmJson>(r.stdout);
    } catch {
      // usage errors print no JSON
    }
    return { r, json };
  }

  async function vmShOk(args: string[], timeoutMs?: number): Promise<VmJson> {
    const { r, json } = await vmSh(args, timeoutMs);
    if (r.code !== 0) throw await explain(`vm.sh ${args.slice(0, 3).join(" ")}`, r);
    return json;
  }

  function innerVm(name: string, index: number, append: string): InnerVm {
    const spec: VmSpec = {
      name,
      host: host?.name ?? "guest",
      image: "tiny",
      cpus: 1,
      memoryMiB: 256,
      hugepages: false,
      trust: "untrusted",
      nics: [],
    };
    const paths = vmPaths(name);
    const sshPort = SSH_FORWARD_PORT_BASE + index;
    // A downloaded image's argv (disk and cloud-init seed); the tiny guest's kernel comes on top.
    const image = { ...TEST_IMAGE, name: "tiny" };
    const planned = qemuArgv({ binary: QEMU, spec, image, nics: [], paths, sshForwardPort: sshPort });
    // Without /dev/kvm the planner's two KVM values cannot work: substitute exactly those.
    const argv = argvForAccel(planned, kvm ? "kvm" : "tcg");
    // Only what the tiny guest needs on top: its kernel, initramfs and command line.
    argv.push("-kernel", kernel, "-initrd", tiny.initramfs, "-append", append);
    return { name, sshPort, paths, argv };
  }

  const startFlags = (vm: InnerVm, waitSsh: number): string[] => [
    "--name",
    vm.name,
    "--image",
    BASE_IMAGE,
    "--seed",
    vm.paths.seed,
    "--ssh-port",
    String(vm.sshPort),
    "--wait-ssh",
    String(waitSsh),
  ];

  /** What vm.sh left in the VM's directory besides the seed (and QEMU's stderr, if any). */
  const leftovers = (vm: InnerVm): Promise<string> =>
    sh("files", `ls -A ${vm.paths.dir} | grep -v -e '^seed\\.img' -e '^qemu\\.stderr$' | sort || true`);

  async function unitState(unit: string): Promise<{ active: string; load: string; file: boolean }> {
    const out = await sh(
      "unit state",
      `systemctl is-active ${unit} || true; systemctl show -p LoadState --value ${unit}; ` +
        `test -e /etc/systemd/system/${unit} && echo file || echo nofile`,
    );
    const [active = "", load = "", file = ""] = out.trim().split("\n");
    return { active, load, file: file === "file" };
  }

  /** A HostSession to the inner guest: a local port forwarded through the guest host (ssh2 forwardOut). */
  async function innerSession(vm: InnerVm): Promise<HostSession> {
    if (!host) throw new Error("no guest host");
    const target = host;
    if (!tunnelClient) {
      const expected = Buffer.from(target.hostKey.trim().split(/\s+/)[1] ?? "", "base64");
      tunnelClient = await new Promise<Client>((resolve, reject) => {
        const c = new Client();
        c.on("ready", () => resolve(c))
          .on("error", reject)
          .connect({
            host: target.address,
            port: target.port,
            username: target.user,
            privateKey: target.privateKey,
            readyTimeout: 30_000,
            hostVerifier: (key: Buffer) => key.equals(expected),
          });
      });
    }
    const client = tunnelClient;
    tunnelServer?.close();
    const server = createServer((sock: Socket) => {
      client.forwardOut("127.0.0.1", 0, "127.0.0.1", vm.sshPort, (err, stream) => {
        if (err) {
          sock.destroy();
          return;
        }
        sock.pipe(stream).pipe(sock);
        sock.on("error", () => stream.close());
        stream.on("error", () => sock.destroy());
      });
    });
    tunnelServer = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const inner = new HostSession({
      name: vm.name,
      address: "127.0.0.1",
      port: (server.address() as AddressInfo).port,
      hostKey: tiny.hostKey,
      credentials: { privateKey: clientKey.private },
      connectTimeoutMs: 30_000,
    });
    innerSessions.push(inner);
    return inner;
  }

  let vm1: InnerVm;
  let vm2: InnerVm;
  const APPEND = "console=ttyS0 quiet";

  beforeAll(async () => {
    [host] = await timed("boot guest host", () =>
      startGuestHosts({ names: ["nmtb-vmlife"], memoryMiB: 3072, cpus: 2 }),
    );
    const h = host;
    if (!h) throw new Error("no guest host");
    session = new HostSession({
      name: h.name,
      address: h.address,
      port: h.port,
      user: h.user,
      hostKey: h.hostKey,
      credentials: { privateKey: h.privateKey },
      // A guest host under TCG on a busy machine can stall for a while: be patient before
      // declaring the connection dead (keepalive: 3 missed replies).
      connectTimeoutMs: 60_000,
      keepaliveIntervalMs: 30_000,
    });
    try {
      await timed("apt-get install (guest host)", async () => {
        // A throw-away guest: dpkg need not fsync every file (minutes under TCG).
        const apt = [
          "apt-get",
          "-q",
          "-o",
          "Acquire::Retries=3",
          "-o",
          "DPkg::Lock::Timeout=60",
          "-o",
          "Dpkg::Options::=--force-unsafe-io",
        ];
        const env = { DEBIAN_FRONTEND: "noninteractive" };
        // busybox triggers update-initramfs, minutes under TCG for an initrd nobody uses (the guest
        // host boots with -kernel/-initrd from outside): switch it off.
        await sh(
          "no update-initramfs",
          "sed -i 's/^update_initramfs=.*/update_initramfs=no/' /etc/initramfs-tools/update-initramfs.conf",
        );
        const update = await session.run("apt-get update", [...apt, "update"], { env, timeoutMs: 300_000 });
        if (update.code !== 0) throw await explain("apt-get update", update);
        const install = await session.run(
          "apt-get install",
          [...apt, "install", "-y", "--no-install-recommends", ...PACKAGES],
          { env, timeoutMs: 600_000 },
        );
        if (install.code !== 0) throw await explain("apt-get install", install);
      });
      await timed("copy scripts", async () => {
        const tgz = execFileSync(
          "tar",
          ["-C", ROOT, "-czf", "-", "kernel-builds", "test/fixtures/tiny-guest"],
          {
            maxBuffer: 64 * 1024 * 1024,
          },
        );
        await session.sftpPut(tgz, "/root/nmtb-bundle.tgz");
        await sh(
          "unpack",
          `rm -rf ${BUNDLE} && mkdir -p ${BUNDLE} && tar -xzf /root/nmtb-bundle.tgz -C ${BUNDLE}`,
        );
      });
      // Nested KVM: -cpu max gives the guest host SVM; kvm_amd normally loads by itself.
      kvm =
        h.accel === "kvm" &&
        (
          await sh(
            "kvm check",
            "modprobe -q kvm_amd 2>/dev/null || modprobe -q kvm_intel 2>/dev/null || true; " +
              "test -c /dev/kvm && echo kvm || echo none",
          )
        ).includes("kvm");
      console.log(
        kvm
          ? "vm-lifecycle: the guest host runs under KVM and has /dev/kvm: the inner VM runs with nested KVM (planner's argv unchanged)"
          : `vm-lifecycle: no hardware-assisted nested KVM (guest host under ${h.accel}): the inner VM runs under TCG ` +
              "(accel=kvm,kernel_irqchip=on -> accel=tcg, -cpu host -> -cpu max; the rest is the planner's argv)",
      );
      await timed("build tiny guest", async () => {
        kernel = `/boot/vmlinuz-${h.kernelRelease}`;
        await sh("kernel", `test -f ${kernel}`);
        tiny = lastJson<{ initramfs: string; hostKey: string }>(
          await must("tiny guest", [
            `${BUNDLE}/test/fixtures/tiny-guest/build-initramfs.sh`,
            "--out",
            TINY_DIR,
            "--authorized-key",
            clientKey.public,
          ]),
        );
        // The overlay's backing image (the tiny guest never reads it; vm.sh's overlay drive needs one).
        await sh(
          "base image",
          `mkdir -p ${path.dirname(BASE_IMAGE)} && qemu-img create -q -f raw ${BASE_IMAGE} 16M`,
        );
        vm1 = innerVm("tiny1", 0, APPEND);
        // A kernel that panics (no init, no root): never answers SSH. "quiet" keeps the emulated
        // serial port out of the way, so under nested KVM the panic comes ~10 s into the boot.
        vm2 = innerVm("tiny2", 1, "console=ttyS0 quiet rdinit=/nonexistent");
        for (const vm of [vm1, vm2]) {
          await must("seed", [
            `${BUNDLE}/kernel-builds/image/make-seed.sh`,
            "--out",
            vm.paths.seed,
            "--hostname",
            vm.name,
            "--ssh-key",
            clientKey.public,
          ]);
        }
      });
    } catch (e) {
      throw new Error(`${String(e)}\n${host ? host.consoleTail(30) : ""}`);
    }
  }, 20 * 60_000);

  afterAll(async () => {
    if (host && session) {
      for (const name of ["tiny1", "tiny2"]) {
        await session
          .run("cleanup", [VM_SH, "stop", "--name", name, "--timeout", "5"], { timeoutMs: 60_000 })
          .catch(() => undefined);
      }
    }
    await Promise.all(innerSessions.map((s) => s.close().catch(() => undefined)));
    tunnelServer?.close();
    tunnelClient?.end();
    await session?.close().catch(() => undefined);
    if (host) await host.stop();
    timings.push(["total", Date.now() - started]);
    console.log(
      `vm-lifecycle timings (s), ${kvm ? "nested KVM" : "TCG"} inner guest:\n` +
        timings.map(([label, ms]) => `  ${label.padEnd(40)} ${seconds(ms)}`).join("\n"),
    );
  }, 240_000);

  itc(
    "refuses an argv without -pidfile and changes nothing",
    async () => {
      const i = vm1.argv.indexOf("-pidfile");
      expect(i).toBeGreaterThan(0);
      const argv = [...vm1.argv.slice(0, i), ...vm1.argv.slice(i + 2)];
      const { r } = await vmSh(["start", ...startFlags(vm1, 60), "--", ...argv]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`the QEMU argv must contain -pidfile ${vm1.paths.pidFile}`);
      expect(await unitState(vm1.paths.unit)).toMatchObject({ file: false, load: "not-found" });
      expect(await leftovers(vm1)).toBe("");
      expect(await vmShOk(["status", "--name", vm1.name])).toMatchObject({ present: false, running: false });
    },
    120_000,
  );

  itc(
    "start: runs the planner's argv as a systemd unit and waits for the SSH banner",
    async () => {
      const json = await timed("vm.sh start (boot to SSH banner)", () =>
        vmShOk(["start", ...startFlags(vm1, 180), "--", ...vm1.argv]),
      );
      expect(json).toMatchObject({
        ok: true,
        systemd: true,
        unit: vm1.paths.unit,
        sshPort: vm1.sshPort,
        sshReady: true,
        overlay: vm1.paths.overlay,
        console: vm1.paths.serialLog,
        argv: vm1.argv,
        changed: true,
      });
      expect(await unitState(vm1.paths.unit)).toEqual({ active: "active", load: "loaded", file: true });
      const status = await vmShOk(["status", "--name", vm1.name]);
      expect(status).toMatchObject({
        present: true,
        running: true,
        pid: json.pid,
        activeState: "active",
        sshPort: vm1.sshPort,
        overlay: vm1.paths.overlay,
      });
      // Read back from /proc/PID/cmdline: exactly what the planner gave, nothing added.
      expect(status.argv).toEqual(vm1.argv);
      const mainPid = (await sh("main pid", `systemctl show -p MainPID --value ${vm1.paths.unit}`)).trim();
      expect(Number(mainPid)).toBe(json.pid);
      expect((await sh("pidfile", `cat ${vm1.paths.pidFile}`)).trim()).toBe(String(json.pid));
      if (kvm)
        expect(await sh("kvm fd", `ls -l /proc/${String(json.pid)}/fd | grep -c /dev/kvm || true`)).not.toBe(
          "0\n",
        );
    },
    300_000,
  );

  itc(
    "the inner guest answers SSH through the guest host (HostSession, pinned host key)",
    async () => {
      const inner = await innerSession(vm1);
      const r = await timed("inner SSH session", () =>
        inner.runChecked(
          "inner",
          ["sh", "-c", "uname -r; cat /proc/cmdline; hostname; ip -4 -o addr show dev eth0"],
          {
            timeoutMs: 60_000,
          },
        ),
      );
      const [release, cmdline, hostname, addr] = r.stdout.trim().split("\n");
      expect(release).toBe(host?.kernelRelease);
      expect(cmdline).toBe(APPEND);
      expect(hostname).toBe("tiny-guest");
      expect(addr).toMatch(/eth0\s+inet 10\.0\.2\.15\/24/);
    },
    120_000,
  );

  itc(
    "start again: the same argv does nothing; a different argv is refused and the VM keeps running",
    async () => {
      const before = await vmShOk(["status", "--name", vm1.name]);
      const again = await vmShOk(["start", ...startFlags(vm1, 60), "--", ...vm1.argv]);
      expect(again).toMatchObject({ ok: true, changed: false, pid: before.pid });
      const other = vm1.argv.map((a) => (a === "256M" ? "320M" : a));
      expect(other).not.toEqual(vm1.argv);
      const { r } = await vmSh(["start", ...startFlags(vm1, 60), "--", ...other]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/running with a different configuration: stop it first/);
      expect(await vmShOk(["status", "--name", vm1.name])).toMatchObject({
        present: true,
        pid: before.pid,
        argv: vm1.argv,
      });
    },
    180_000,
  );

  itc(
    "stop: QMP powerdown (graceful), then unit and overlay are gone and status says present: false",
    async () => {
      const pid = (await vmShOk(["status", "--name", vm1.name])).pid;
      const stop = await timed("vm.sh stop (graceful)", () =>
        vmShOk(["stop", "--name", vm1.name, "--timeout", "60"], 120_000),
      );
      expect(stop).toMatchObject({ changed: true, graceful: true, killed: false });
      expect(await sh("gone", `test -d /proc/${String(pid)} && echo alive || echo gone`)).toBe("gone\n");
      expect(await vmShOk(["status", "--name", vm1.name])).toMatchObject({
        present: false,
        running: false,
        unit: null,
        overlay: null,
        argv: null,
      });
      expect(await unitState(vm1.paths.unit)).toMatchObject({ file: false, load: "not-found" });
      // The console log stays for post-mortems; it shows the guest's own clean poweroff.
      expect(await leftovers(vm1)).toBe("console.log\n");
      const consoleLog = await sh("console", `cat ${vm1.paths.serialLog}`);
      expect(consoleLog).toContain("tiny-guest: power button pressed");
      expect(consoleLog).toMatch(/reboot: Power down/);
      // Absent VM: stop again succeeds and changes nothing.
      expect(await vmShOk(["stop", "--name", vm1.name])).toMatchObject({ changed: false, graceful: false });
    },
    180_000,
  );

  itc(
    "start after stop works; a guest that ignores the power button is killed after --timeout",
    async () => {
      // Under TCG a second boot to SSH costs two minutes and proves nothing the first did not:
      // the guest is killed while its kernel still boots, long before its acpid could listen.
      // Under KVM it boots in seconds, so it is made deaf to the button once it answers SSH.
      const label = kvm ? "vm.sh start again (boot to SSH banner)" : "vm.sh start again (no SSH wait)";
      const json = await timed(label, () =>
        vmShOk(["start", ...startFlags(vm1, kvm ? 180 : 0), "--", ...vm1.argv]),
      );
      expect(json).toMatchObject({ ok: true, changed: true });
      if (kvm) expect(json).toMatchObject({ sshReady: true });
      expect(await vmShOk(["status", "--name", vm1.name])).toMatchObject({
        present: true,
        running: true,
        pid: json.pid,
      });
      if (kvm) {
        // Make the guest deaf to the power button: acpid finds no handler for it any more.
        const inner = await innerSession(vm1);
        await inner.runChecked("deafen", ["rm", "-f", "/etc/acpi/PWRF/00000080"], { timeoutMs: 60_000 });
      }
      const stop = await timed("vm.sh stop --timeout 5 (kill path)", () =>
        vmShOk(["stop", "--name", vm1.name, "--timeout", "5"], 120_000),
      );
      expect(stop).toMatchObject({ changed: true, graceful: false, killed: true });
      expect(await vmShOk(["status", "--name", vm1.name])).toMatchObject({
        present: false,
        running: false,
        unit: null,
        overlay: null,
      });
      expect(await unitState(vm1.paths.unit)).toMatchObject({ file: false, load: "not-found" });
      expect(await leftovers(vm1)).toBe("console.log\n");
    },
    300_000,
  );

  itc(
    "a boot that never answers SSH fails with the console tail in the JSON error and leaves nothing running",
    async () => {
      const { r, json } = await timed("vm.sh start, panicking kernel (--wait-ssh 30)", () =>
        vmSh(["start", ...startFlags(vm2, 30), "--", ...vm2.argv]),
      );
      expect(r.code).toBe(1);
      expect(json).toMatchObject({
        ok: false,
        unit: vm2.paths.unit,
        error: `guest did not answer SSH on 127.0.0.1:${vm2.sshPort} within 30s`,
      });
      // The error carries the console log's tail as it was when the wait ended (the log may have
      // grown until QEMU was stopped): under nested KVM that is the panic; under TCG the kernel
      // may not have printed its first line within the 30 s.
      const consoleLog = await sh("console log", `cat ${vm2.paths.serialLog}`);
      expect(typeof json.consoleTail).toBe("string");
      expect(consoleLog).toContain(String(json.consoleTail).trim());
      if (kvm) expect(String(json.consoleTail)).toMatch(/Kernel panic - not syncing/);
      expect(await vmShOk(["status", "--name", vm2.name])).toMatchObject({
        present: false,
        running: false,
        unit: null,
        overlay: null,
      });
      expect(await unitState(vm2.paths.unit)).toMatchObject({ file: false, load: "not-found" });
      expect(await leftovers(vm2)).toBe("console.log\n");
      // No QEMU of ours is left on the guest host.
      expect(await sh("qemu procs", "pgrep -c -x qemu-system-x86 || true")).toBe("0\n");
    },
    180_000,
  );
});
