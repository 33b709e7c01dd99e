/**
 * kernel-builds/vm/vm.sh: the systemd unit (ExecStart escaping checked by re-parsing it with
 * systemd's rules), the checks on the planner's argv (run as given, nothing added), the NUMA check
 * on a fake sysfs, and the lifecycle in --no-systemd mode against a QEMU test double
 * (test/fixtures/fake-qemu-vm/) that serves QMP and an SSH banner, also with the planner's own argv.
 * The lifecycle under systemd with a real QEMU needs a systemd host: see the integration tests.
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { planTestbed } from "../../components/plan";
import { paperModel } from "../support/plan-test-model";
import type { VmPlan } from "../../components/plan/types";

const root = path.resolve(__dirname, "../..");
const script = path.join(root, "kernel-builds/vm/vm.sh");
const fakeQemu = path.join(root, "test/fixtures/fake-qemu-vm/qemu-system-x86_64");

/**
 * Splits an ExecStart= value the way systemd does: specifiers first ("%%" → "%", any other "%x"
 * is an error here), then words with double quotes and C escapes, then "$$" → "$" (a lone "$" would
 * be a variable reference: an error here).
 */
function systemdExecArgv(line: string): string[] {
  const noSpecifiers = line.replace(/%(.)/g, (_m, c: string) => {
    if (c !== "%") throw new Error(`unescaped specifier %${c}`);
    return "%";
  });
  const words: string[] = [];
  let i = 0;
  while (i < noSpecifiers.length) {
    if (noSpecifiers[i] === " ") {
      i++;
      continue;
    }
    if (noSpecifiers[i] !== '"') throw new Error(`unquoted word at ${i}: ${noSpecifiers.slice(i)}`);
    i++;
    let word = "";
    for (;;) {
      if (i >= noSpecifiers.length) throw new Error("unterminated quote");
      const c = noSpecifiers[i];
      if (c === "\\") {
        const n = noSpecifiers[i + 1];
        if (n !== "\\" && n !== '"') throw new Error(`unexpected escape \\${n}`);
        word += n;
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        word += c;
        i++;
      }
    }
    words.push(
      word.replace(/\$(.?)/g, (_m, c: string) => {
        if (c !== "$") throw new Error(`unescaped variable reference in ${word}`);
        return "$";
      }),
    );
  }
  return words;
}

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-script-"));
  env = {
    ...process.env,
    NMTB_STATE_DIR: path.join(dir, "state"),
    NMTB_SYSTEMD_DIR: path.join(dir, "systemd"),
  };
});
afterEach(() => {
  spawnSync("bash", [script, "stop", "--name", "vm1", "--timeout", "2"], { env });
  fs.rmSync(dir, { recursive: true, force: true });
});

function vm(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ status: number; stdout: string; stderr: string; json: Record<string, unknown> }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      [script, ...args],
      { env: { ...env, ...extraEnv }, encoding: "utf8" },
      (err, stdout, stderr) => {
        const status = err ? Number((err as { code?: number }).code ?? 1) : 0;
        let json: Record<string, unknown> = {};
        if (stdout.trim()) json = JSON.parse(stdout.trim()) as Record<string, unknown>;
        resolve({ status, stdout, stderr, json });
      },
    );
  });
}

/** The state dir vm.sh uses for a VM by default: $NMTB_STATE_DIR/vms/NAME. */
function stateDir(name = "vm1"): string {
  return path.join(String(env.NMTB_STATE_DIR), "vms", name);
}

/**
 * A complete argv as the planner writes it (vm.sh adds nothing): EXTRA after the binary, then the
 * VM's files under D = stateDir(), the seed and, with SSHPORT, the management NIC.
 */
function fullArgv(seedPath: string, extra: string[] = [], sshPort?: number, d = stateDir()): string[] {
  return [
    fakeQemu,
    ...extra,
    "-drive",
    `file=${d}/overlay.qcow2,if=virtio,format=qcow2`,
    "-drive",
    `file=${seedPath},if=virtio,format=raw,readonly=on`,
    ...(sshPort === undefined
      ? []
      : [
          "-netdev",
          `user,id=mgmt,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
          "-device",
          "virtio-net-pci,netdev=mgmt",
        ]),
    "-serial",
    `file:${d}/console.log`,
    "-qmp",
    `unix:${d}/qmp.sock,server,nowait`,
    "-pidfile",
    `${d}/qemu.pid`,
  ];
}

/** Removes the value after FLAG (and FLAG) where the value starts with PREFIX. */
function without(argv: string[], flag: string, prefix = ""): string[] {
  const i = argv.findIndex((a, j) => a === flag && (argv[j + 1] ?? "").startsWith(prefix));
  if (i < 1) throw new Error(`no ${flag} ${prefix} in argv`);
  return [...argv.slice(0, i), ...argv.slice(i + 2)];
}

/** Every file and directory under ROOT (relative paths), to show that nothing was written. */
function tree(rootDir: string): string[] {
  if (!fs.existsSync(rootDir)) return [];
  return fs.readdirSync(rootDir, { recursive: true, encoding: "utf8" }).sort();
}

function execStart(unitContent: string): string[] {
  const exec = unitContent.split("\n").find((l) => l.startsWith("ExecStart="));
  if (exec === undefined) throw new Error("no ExecStart= in the unit");
  return systemdExecArgv(exec.slice("ExecStart=".length));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("systemd ExecStart escaping", () => {
  it("round-trips awkward arguments through the unit file", async () => {
    const argv = fullArgv("/s.iso", [
      "-netdev",
      "netmap,id=n0,ifname=netmap:p{1,passthrough=on",
      "-device",
      "ptnet-pci,netdev=n0,mac=00:aa:bb:cc:dd:01",
      "-append",
      'console=ttyS0 quiet "quoted" back\\slash 100% $HOME ${x} %n $$',
      "-fw_cfg",
      "",
    ]);
    const r = await vm(["unit", "--name", "vm1", "--image", "/i.qcow2", "--seed", "/s.iso", "--", ...argv]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const content = String(r.json.content);
    // Exactly the given argv: vm.sh adds nothing.
    expect(r.json.argv).toEqual(argv);
    expect(execStart(content)).toEqual(argv);
    expect(r.json.unit).toBe("netmap-testbed-vm-vm1.service");
    expect(content).toMatch(/^Restart=no$/m);
  });

  it("the checker itself rejects unescaped specifiers and variables", () => {
    expect(() => systemdExecArgv('"100%"')).toThrow(/specifier/);
    expect(() => systemdExecArgv('"$HOME"')).toThrow(/variable/);
    expect(systemdExecArgv('"a b" "c\\"d" "e%%f" "g$$h"')).toEqual(["a b", 'c"d', "e%f", "g$h"]);
  });

  it("refuses control characters in QEMU arguments", async () => {
    const r = await vm([
      "unit",
      "--name",
      "vm1",
      "--image",
      "/i",
      "--seed",
      "/s",
      "--",
      ...fullArgv("/s", ["a\nb"]),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/control character/);
  });
});

describe("vm.sh checks the planner's argv", () => {
  const seed = "/var/lib/netmap-testbed/vms/vm1/seed.img";
  const base = ["--name", "vm1", "--image", "/i.qcow2", "--seed", seed];

  it.each([
    [
      "without -pidfile",
      (a: string[]) => without(a, "-pidfile"),
      /must contain -pidfile .*\/vms\/vm1\/qemu\.pid/,
    ],
    [
      "without -qmp",
      (a: string[]) => without(a, "-qmp"),
      /must contain -qmp unix:.*\/vms\/vm1\/qmp\.sock,server/,
    ],
    [
      "without the overlay drive",
      (a: string[]) => without(a, "-drive", `file=${stateDir()}/overlay.qcow2,`),
      /must contain -drive file=.*\/vms\/vm1\/overlay\.qcow2,/,
    ],
    [
      "without the seed drive",
      (a: string[]) => without(a, "-drive", `file=${seed},`),
      /must contain -drive file=.*seed\.img,/,
    ],
    [
      "with another VM's pidfile",
      (a: string[]) => a.map((x) => x.replace("/vms/vm1/qemu.pid", "/vms/vm2/qemu.pid")),
      /must contain -pidfile/,
    ],
    ["with -daemonize", (a: string[]) => [...a, "-daemonize"], /must not contain -daemonize/],
  ])("refuses an argv %s (usage error, nothing written)", async (_what, edit, message) => {
    const argv = edit(fullArgv(seed));
    for (const action of ["unit", "start"]) {
      const r = await vm([action, ...base, "--no-systemd", "--", ...argv]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/^usage: vm\.sh start/m);
    }
    expect(tree(dir)).toEqual([]);
  });

  it("with --ssh-port, refuses an argv that does not forward that port to the guest's SSH", async () => {
    const r = await vm(["unit", ...base, "--ssh-port", "10022", "--", ...fullArgv(seed, [], 10023)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--ssh-port 10022 needs -netdev user,…,hostfwd=tcp:127\.0\.0\.1:10022-:22/);
    const ok = await vm(["unit", ...base, "--ssh-port", "10023", "--", ...fullArgv(seed, [], 10023)]);
    expect(ok.status).toBe(0);
  });

  it("finds the VM's files with a trailing slash on --state-dir", async () => {
    const r = await vm(["unit", ...base, "--state-dir", `${stateDir()}/`, "--", ...fullArgv(seed)]);
    expect(r.status).toBe(0);
  });
});

describe("vm.sh runs the planner's argv as given", () => {
  const plan = planTestbed(paperModel());
  const vms: VmPlan[] = plan.hosts.flatMap((h) => [...h.vms]);

  it("the paper's model has VMs to check", () => {
    expect(vms.map((v) => v.name)).toEqual(["vm-nic", "vm-a", "vm-b", "vm-c", "vm-d"]);
  });

  it.each(vms.map((v) => [v.name, v] as const))(
    "unit for %s: accepted, ExecStart is exactly the planner's argv",
    async (name, planned) => {
      // The plan's paths are the host's (/var/lib/netmap-testbed/vms/NAME): `unit` writes nothing.
      const argv = [fakeQemu, ...planned.qemuArgs.slice(1)];
      const r = await vm([
        "unit",
        "--name",
        name,
        "--image",
        "/var/cache/netmap-testbed/images/debian12.img",
        "--seed",
        planned.paths.seed,
        "--state-dir",
        planned.paths.dir,
        "--ssh-port",
        String(planned.sshForwardPort),
        ...(planned.spec.pin ? ["--pin", planned.spec.pin.join(",")] : []),
        "--",
        ...argv,
      ]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.json.unit).toBe(planned.paths.unit);
      expect(r.json.argv).toEqual(argv);
      expect(execStart(String(r.json.content))).toEqual(argv);
      expect(tree(dir)).toEqual([]);
    },
  );
});

describe("vm.sh numa-check", () => {
  it("warns when pinned CPUs are not on the NIC's NUMA node", async () => {
    const sys = path.join(dir, "sys");
    fs.mkdirSync(path.join(sys, "net", "eth1", "device"), { recursive: true });
    fs.writeFileSync(path.join(sys, "net", "eth1", "device", "numa_node"), "1\n");
    for (const [cpu, node] of [
      [2, 0],
      [3, 1],
    ]) {
      fs.mkdirSync(path.join(sys, "cpu", `cpu${cpu}`, `node${node}`), { recursive: true });
    }
    const r = await vm(["numa-check", "--pin", "2,3", "--nic-interface", "eth1"], {
      NMTB_SYS_CLASS_NET: path.join(sys, "net"),
      NMTB_SYS_CPU: path.join(sys, "cpu"),
    });
    expect(r.status).toBe(0);
    expect(r.json).toEqual({
      pins: "2,3",
      nics: ["eth1"],
      warnings: ["CPU 2 is on NUMA node 0 but NIC eth1 is on node 1: pin the VM to CPUs of node 1"],
    });
  });
});

describe("vm.sh lifecycle (--no-systemd, QEMU test double)", () => {
  let image: string;
  let seed: string;
  beforeEach(() => {
    image = path.join(dir, "base.qcow2");
    seed = path.join(dir, "seed.iso");
    expect(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]).status).toBe(0);
    fs.writeFileSync(seed, "seed");
  });
  const hasQemuImg = spawnSync("sh", ["-c", "command -v qemu-img"]).status === 0;
  const maybe = hasQemuImg ? it : it.skip;

  maybe(
    "starts, pins, waits for SSH, reports status, is idempotent, stops gracefully",
    async () => {
      const port = await freePort();
      const start = [
        "start",
        "--name",
        "vm1",
        "--image",
        image,
        "--seed",
        seed,
        "--pin",
        "0",
        "--ssh-port",
        String(port),
        "--wait-ssh",
        "30",
        "--no-systemd",
        "--",
        ...fullArgv(seed, ["-smp", "2", "-m", "512"], port),
      ];
      const r = await vm(start);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.status).toBe(0);
      expect(r.json).toMatchObject({
        ok: true,
        sshPort: port,
        sshReady: true,
        pinned: ["0:0", "1:0"],
        changed: true,
        console: path.join(stateDir(), "console.log"),
        qmp: path.join(stateDir(), "qmp.sock"),
      });
      expect(r.json.argv).toEqual(start.slice(start.indexOf("--") + 1));
      expect(r.json.warnings).toEqual(["2 vCPUs but only 1 CPUs in --pin: vCPUs share CPUs"]);
      const overlay = path.join(dir, "state", "vms", "vm1", "overlay.qcow2");
      const info = spawnSync("qemu-img", ["info", overlay], { encoding: "utf8" }).stdout;
      expect(info).toContain(`backing file: ${image}`);
      const pid = Number(r.json.pid);
      // The two vCPU threads (and only they) are pinned to CPU 0.
      const allowed = fs
        .readdirSync(`/proc/${pid}/task`)
        .map(
          (tid) =>
            /Cpus_allowed_list:\s*(\S+)/.exec(
              fs.readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"),
            )?.[1],
        );
      expect(allowed.filter((a) => a === "0")).toHaveLength(2);

      const status = await vm(["status", "--name", "vm1"]);
      expect(status.json).toMatchObject({ present: true, running: true, pid, sshPort: port });
      expect((status.json.argv as string[]).slice(1, 4)).toEqual([fakeQemu, "-smp", "2"]);

      const again = await vm(start);
      expect(again.json).toMatchObject({ ok: true, pid, changed: false });

      const other = await vm(start.map((a) => (a === "512" ? "1024" : a)));
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(/running with a different configuration/);

      const early = await vm(["purge", "--name", "vm1"]);
      expect(early.status).toBe(1);
      expect(early.stderr).toMatch(/still running .*stop it first/);
      expect(fs.existsSync(overlay)).toBe(true);

      const stop = await vm(["stop", "--name", "vm1", "--timeout", "10"]);
      expect(stop.json).toMatchObject({ changed: true, graceful: true, killed: false });
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      expect(fs.existsSync(overlay)).toBe(false);
      expect((await vm(["status", "--name", "vm1"])).json).toMatchObject({
        present: false,
        running: false,
        pid: null,
      });
      expect((await vm(["stop", "--name", "vm1"])).json).toMatchObject({ changed: false });
      expect(fs.readFileSync(path.join(dir, "state", "vms", "vm1", "console.log"), "utf8")).toMatch(
        /powering down/,
      );
      // The seed step's delete, after the VM's: nothing of the VM is left.
      expect((await vm(["purge", "--name", "vm1"])).json).toMatchObject({ changed: true });
      expect(fs.existsSync(path.join(dir, "state", "vms", "vm1"))).toBe(false);
      expect((await vm(["purge", "--name", "vm1"])).json).toMatchObject({ changed: false });
    },
    60000,
  );

  maybe(
    "kills a guest that ignores the powerdown",
    async () => {
      const port = await freePort();
      const r = await vm(
        [
          "start",
          "--name",
          "vm1",
          "--image",
          image,
          "--seed",
          seed,
          "--ssh-port",
          String(port),
          "--no-systemd",
          "--",
          ...fullArgv(seed, [], port),
        ],
        { FAKE_QEMU_IGNORE_POWERDOWN: "1" },
      );
      expect(r.status).toBe(0);
      const stop = await vm(["stop", "--name", "vm1", "--timeout", "1"]);
      expect(stop.json).toMatchObject({ graceful: false, killed: true });
      expect(fs.existsSync(`/proc/${String(r.json.pid)}`)).toBe(false);
    },
    60000,
  );

  maybe(
    "on SSH timeout prints a JSON error with the console tail and stops the VM",
    async () => {
      const port = await freePort();
      const r = await vm(
        [
          "start",
          "--name",
          "vm1",
          "--image",
          image,
          "--seed",
          seed,
          "--ssh-port",
          String(port),
          "--wait-ssh",
          "2",
          "--no-systemd",
          "--",
          ...fullArgv(seed, [], port),
        ],
        { FAKE_QEMU_NO_SSH: "1" },
      );
      expect(r.status).toBe(1);
      expect(r.json).toMatchObject({
        ok: false,
        error: `guest did not answer SSH on 127.0.0.1:${port} within 2s`,
      });
      expect(String(r.json.consoleTail)).toContain("fake guest: booting");
      // Stopped like `stop` does: no overlay, unit or pidfile left; the console log stays.
      expect((await vm(["status", "--name", "vm1"])).json).toMatchObject({
        present: false,
        running: false,
        overlay: null,
        unit: null,
      });
      expect(fs.readdirSync(stateDir()).sort()).toEqual(["console.log", "qemu.stderr"]);
    },
    60000,
  );

  maybe(
    "gives up on a guest that stopped booting at once, not at the SSH deadline",
    async () => {
      const port = await freePort();
      const flags = ["--name", "vm1", "--image", image, "--seed", seed, "--ssh-port", String(port)];
      const started = Date.now();
      const r = await vm(
        ["start", ...flags, "--wait-ssh", "120", "--no-systemd", "--", ...fullArgv(seed, [], port)],
        {
          FAKE_QEMU_NO_SSH: "1",
          FAKE_QEMU_CONSOLE: "ALERT!  /dev/vda does not exist.  Dropping to a shell!",
        },
      );
      expect(r.status).toBe(1);
      expect(r.json).toMatchObject({ ok: false, error: "the guest stopped booting: Dropping to a shell" });
      expect(Date.now() - started).toBeLessThan(60_000);
      expect((await vm(["status", "--name", "vm1"])).json).toMatchObject({ present: false, running: false });
    },
    90000,
  );

  maybe(
    "fails the start of a guest whose seed setup failed, though its SSH answers",
    async () => {
      const port = await freePort();
      const flags = ["--name", "vm1", "--image", image, "--seed", seed, "--ssh-port", String(port)];
      const r = await vm(
        ["start", ...flags, "--wait-ssh", "30", "--no-systemd", "--", ...fullArgv(seed, [], port)],
        {
          FAKE_QEMU_CONSOLE:
            "guest-setup: error: netmap build is for kernel 6.1.0-9-amd64, this guest runs 6.1.0-50-amd64: nothing installed\nnmtb-seed: setup failed (exit 1)",
        },
      );
      expect(r.status).toBe(1);
      expect(r.json).toMatchObject({
        ok: false,
        error: "the guest's seed setup failed (nmtb-seed: setup failed (exit 1)); the console tail says why",
      });
      expect(String(r.json.consoleTail)).toContain("netmap build is for kernel 6.1.0-9-amd64");
      expect((await vm(["status", "--name", "vm1"])).json).toMatchObject({ present: false, running: false });
    },
    60000,
  );

  maybe(
    "starts, reports and stops a VM from the planner's argv (paths moved under the test's state dir)",
    async () => {
      const planned = planTestbed(paperModel())
        .hosts.flatMap((h) => h.vms)
        .find((v) => v.name === "vm-a");
      if (!planned) throw new Error("no vm-a in the paper's model");
      const port = await freePort();
      const d = stateDir();
      const hostfwd = `hostfwd=tcp:127.0.0.1:${planned.sshForwardPort}-:22`;
      const argv = [fakeQemu, ...planned.qemuArgs.slice(1)].map((a) =>
        a.split(planned.paths.dir).join(d).replace(hostfwd, `hostfwd=tcp:127.0.0.1:${port}-:22`),
      );
      expect(argv.filter((a) => a.includes("/var/lib/netmap-testbed"))).toEqual([]);
      const planSeed = planned.paths.seed.replace(planned.paths.dir, d);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(planSeed, "seed");
      const flags = ["--name", "vm1", "--image", image, "--seed", planSeed, "--ssh-port", String(port)];
      const r = await vm(["start", ...flags, "--wait-ssh", "30", "--no-systemd", "--", ...argv]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.status).toBe(0);
      expect(r.json).toMatchObject({ ok: true, sshReady: true, console: path.join(d, "console.log"), argv });
      const pid = Number(r.json.pid);
      const status = await vm(["status", "--name", "vm1"]);
      expect(status.json).toMatchObject({ present: true, running: true, pid });
      expect((status.json.argv as string[]).slice(1)).toEqual(argv);
      const stop = await vm(["stop", "--name", "vm1", "--timeout", "10"]);
      expect(stop.json).toMatchObject({ changed: true, graceful: true, killed: false });
      expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      expect(fs.readFileSync(path.join(d, "console.log"), "utf8")).toMatch(/powering down/);
    },
    60000,
  );

  maybe(
    "starts a recipe image's VM from the planner's argv, its kernel and initrd linked into its directory",
    async () => {
      const paper = paperModel();
      const model = {
        ...paper,
        images: [{ kind: "recipe" as const, name: "lab", recipe: "lab" as const, os: "linux" as const }],
        vms: paper.vms.map((v) => ({ ...v, image: "lab" })),
      };
      const planned = planTestbed(model)
        .hosts.flatMap((h) => h.vms)
        .find((v) => v.name === "vm-a");
      if (!planned) throw new Error("no vm-a in the paper's model");
      const port = await freePort();
      const d = stateDir();
      const hostfwd = `hostfwd=tcp:127.0.0.1:${planned.sshForwardPort}-:22`;
      const argv = [fakeQemu, ...planned.qemuArgs.slice(1)].map((a) =>
        a.split(planned.paths.dir).join(d).replace(hostfwd, `hostfwd=tcp:127.0.0.1:${port}-:22`),
      );
      const planSeed = planned.paths.seed.replace(planned.paths.dir, d);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(planSeed, "seed");
      const kernel = path.join(dir, "vmlinuz-6.1.0-test");
      const initrd = path.join(dir, "initrd.img-6.1.0-test");
      fs.writeFileSync(kernel, "kernel");
      fs.writeFileSync(initrd, "initrd");
      const flags = ["--name", "vm1", "--image", image, "--seed", planSeed, "--ssh-port", String(port)];

      const half = await vm(["start", ...flags, "--kernel", kernel, "--no-systemd", "--", ...argv]);
      expect(half.status).toBe(2);
      expect(half.stderr).toMatch(/--kernel and --initrd go together/);
      const elsewhere = argv.map((a) => (a === `${d}/vmlinuz` ? kernel : a));
      const wrong = await vm([
        "start",
        ...flags,
        "--kernel",
        kernel,
        "--initrd",
        initrd,
        "--no-systemd",
        "--",
        ...elsewhere,
      ]);
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toMatch(/must contain -kernel .*\/vmlinuz -initrd .*\/initrd\.img/);

      const boot = ["--kernel", kernel, "--initrd", initrd];
      const r = await vm(["start", ...flags, ...boot, "--wait-ssh", "30", "--no-systemd", "--", ...argv]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.status).toBe(0);
      expect(fs.readlinkSync(path.join(d, "vmlinuz"))).toBe(kernel);
      expect(fs.readlinkSync(path.join(d, "initrd.img"))).toBe(initrd);
      const stop = await vm(["stop", "--name", "vm1", "--timeout", "10"]);
      expect(stop.json).toMatchObject({ changed: true, graceful: true });
    },
    60000,
  );

  it("explains that systemd is needed unless --no-systemd is given", async () => {
    if (fs.existsSync("/run/systemd/system")) return; // a systemd host would really start it
    const r = await vm(["start", "--name", "vm1", "--image", image, "--seed", seed, "--", ...fullArgv(seed)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/systemd is not running as PID 1 .* use --no-systemd/);
  });
});
