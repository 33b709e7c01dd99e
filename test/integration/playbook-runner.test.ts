/**
 * `netmap-testbed run` end to end on real SSH hosts (network namespaces with their own sshd) and a
 * "guest" reached through its host (a second sshd on the host's 127.0.0.1 at the VM's forward
 * port), with the stand-in traffic program test/fixtures/fake-pkt-gen/pkt-gen passed as --pkt-gen.
 * The runner runs as a child process, as a user would run it, so Ctrl-C is a real SIGINT.
 * Needs root (CI runs as root). Every wait is bounded.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { HostSession } from "../../components/host";
import { lineRateMpps } from "../../components/playbooks/line-rate";
import { PROCESS_DIR, RemoteProcess } from "../../components/playbooks/remote-process";
import type { Manifest } from "../../components/playbooks/manifest";
import type { ResultsFile } from "../../components/playbooks/results";
import { checkSvg } from "../support/svg-check";
import { TEST_SHA256 } from "../support/test-digests";
import { createNetnsLab, type NetnsLab } from "../fixtures/netns-hosts";

const ROOT = path.join(__dirname, "..", "..");
const FAKE = path.join(ROOT, "test", "fixtures", "fake-pkt-gen", "pkt-gen");
const VM_MAC = "02:aa:bb:cc:dd:01";
/** The planner gives the first VM of a host SSH forward port 10022. */
const VM_SSH_PORT = 10022;

let lab: NetnsLab;
let work: string;
let guestSshd: ChildProcess | undefined;
let guestHostKey: string;

/**
 * The steady rate the fake prints for a size, in Mpps: 90 % of 10 GbE line rate in packets/s,
 * printed like pkt-gen ("%.3f" of the value in its unit: 13.393 Mpps, 731.469 Kpps).
 */
function fakeRate(size: number): number {
  const pps = Math.round(0.9 * lineRateMpps(size) * 1e6);
  return pps >= 1e6 ? Number((pps / 1e6).toFixed(3)) : Number((pps / 1e3).toFixed(3)) / 1e3;
}

function topology(): string {
  const [h1, h2] = lab.hosts;
  return `apiVersion: netmap-testbed/v1
name: nslab
netmap: { source: { git: https://github.com/luigirizzo/netmap.git, ref: master }, drivers: [] }
qemu: { source: { git: https://github.com/netmap-unipi/qemu.git, ref: master } }
images: { d: { url: https://example.org/d.qcow2, sha256: "${TEST_SHA256}" } }
hosts:
  h1:
    address: ${h1.address}
    hostKey: "${h1.hostKey}"
    managementInterface: eth0
    nics: { p0: { interface: tp0, driver: veth } }
  h2:
    address: ${h2.address}
    hostKey: "${h2.hostKey}"
    managementInterface: eth0
    nics: { p0: { interface: tp0, driver: veth } }
switches:
  # a and b are not declared: pkt-gen opens them as ephemeral ports (a declared, persistent one
  # is lent to pkt-gen through the deployment's vale-port.sh, which these hosts do not have).
  vale0: { host: h1, ports: { vm: {} } }
vms:
  vm1: { host: h1, image: d, cpus: 1, memory: 1GiB, nics: [{ switch: vale0, port: vm, mac: "${VM_MAC}" }] }
`;
}

function playbook(name: string, duration: number, runs: string): string {
  return `apiVersion: netmap-testbed/playbook-v1
name: ${name}
topology: topology.yaml
defaults: { duration: ${duration}, warmup: 2, repetitions: 1, reportInterval: 250 }
runs:
${runs}`;
}

const FULL_RUNS = `  - name: vale
    sender: { valePort: "vale0:a" }
    receiver: { valePort: "vale0:b" }
    sizes: [60, 1514]
    repetitions: 2
    pin: { sender: [0], receiver: [1] }
  - name: guest
    sender: { vm: vm1, nic: 0 }
    receiver: { valePort: "vale0:b" }
    sizes: [124]
  - name: nics
    sender: { host: h1, nic: p0 }
    receiver: { host: h2, nic: p0 }
    sizes: [508]
    duration: 1
`;

async function startGuestSshd(): Promise<void> {
  const [h1] = lab.hosts;
  const dir = path.join(work, "guest");
  await mkdir(dir);
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "vm1",
    "-f",
    path.join(dir, "host_key"),
  ]);
  guestHostKey = readFileSync(path.join(dir, "host_key.pub"), "utf8").trim();
  await writeFile(path.join(dir, "authorized_keys"), h1.publicKey, { mode: 0o600 });
  const config = [
    `Port ${VM_SSH_PORT}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${dir}/host_key`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    "StrictModes no",
    "MaxSessions 20",
    "",
  ].join("\n");
  await writeFile(path.join(dir, "sshd_config"), config, { mode: 0o600 });
  guestSshd = spawn(
    "ip",
    [
      "netns",
      "exec",
      h1.namespace,
      "/usr/sbin/sshd",
      "-D",
      "-f",
      `${dir}/sshd_config`,
      "-E",
      `${dir}/sshd.log`,
    ],
    {
      stdio: "ignore",
    },
  );
  const deadline = Date.now() + 5000;
  while ((await h1.exec(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${VM_SSH_PORT}`])).code !== 0) {
    if (Date.now() > deadline) throw new Error("guest sshd did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  lab = await createNetnsLab({ hosts: 2, prefix: "pbr" });
  work = await mkdtemp(path.join(tmpdir(), "nmtb-playbook-"));
  const [h1, h2] = lab.hosts;
  // One identity for every machine, as with a real testbed.
  await writeFile(path.join(work, "id"), h1.privateKey, { mode: 0o600 });
  await appendFile(path.join(h2.dir, "authorized_keys"), h1.publicKey);
  for (const host of lab.hosts) {
    await host.exec(["ip", "link", "add", "tp0", "type", "veth", "peer", "name", "tp0b"]);
    await host.exec(["ip", "link", "set", "tp0", "up"]);
  }
  // The "guest" shares h1's namespace; its ptnet NIC is a veth with the VM NIC's MAC (this kernel loads no dummy module).
  await h1.exec(["ip", "link", "add", "gp0", "address", VM_MAC, "type", "veth", "peer", "name", "gp0b"]);
  await startGuestSshd();
  await mkdir(path.join(work, "bin"));
  copyFileSync(FAKE, path.join(work, "bin", "pkt-gen"));
  await writeFile(path.join(work, "topology.yaml"), topology());
  await writeFile(path.join(work, "keys"), `vm1 ${guestHostKey}\n`);
  void h2;
});

afterAll(async () => {
  guestSshd?.kill("SIGTERM");
  await lab?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Child {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

function runCli(playbookFile: string, extra: string[] = []): Child {
  const code =
    "const io = { out: (t) => process.stdout.write(t + '\\n'), err: (t) => process.stderr.write(t + '\\n') };" +
    "require('./components/cli/run-command').runRun(process.argv.slice(1), io).then((c) => { process.exitCode = c; });";
  const args = [
    playbookFile,
    "--identity",
    path.join(work, "id"),
    "--host-key-file",
    path.join(work, "keys"),
  ];
  args.push(
    "--guest-user",
    "root",
    "--pkt-gen",
    path.join(work, "bin", "pkt-gen"),
    "--out",
    path.join(work, "results"),
    ...extra,
  );
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code, ...args], {
    cwd: ROOT,
    env: { ...process.env, SSH_AUTH_SOCK: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result: Child = {
    child,
    stdout: "",
    stderr: "",
    exit: new Promise((resolve) => child.once("exit", (c) => resolve(c))),
  };
  child.stdout?.on("data", (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (result.stderr += chunk.toString()));
  return result;
}

async function exitWithin(child: Child, ms: number): Promise<number | null> {
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
  const outcome = await Promise.race([child.exit, timer]);
  if (outcome === "timeout") {
    child.child.kill("SIGKILL");
    throw new Error(`runner did not exit within ${ms} ms\nstderr:\n${child.stderr}`);
  }
  return outcome;
}

interface PkEvent {
  readonly t: number;
  readonly ns: string;
  readonly event: string;
  readonly role: string;
  readonly port: string;
  readonly cpu: string;
}

async function events(): Promise<PkEvent[]> {
  const file = path.join(work, "bin", "events.log");
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [t, ns, event, role, port, , cpu] = line.split(" ");
      return { t: Number(t), ns, event, role, port, cpu: cpu.replace("cpu=", "") };
    });
}

/** pkt-gen pidfiles in RemoteProcess's directory (the namespace hosts share this machine's /run). */
function pidfiles(): string[] {
  return existsSync(PROCESS_DIR)
    ? readdirSync(PROCESS_DIR).filter((name) => name.startsWith("pkt-gen."))
    : [];
}

/** Fake pkt-gen processes still running anywhere (namespaces share the pid space). */
function leftovers(): string {
  try {
    return execFileSync("pgrep", ["-af", path.join(work, "bin", "pkt-gen")], { encoding: "utf8" }).trim();
  } catch {
    return ""; // pgrep exits 1 when nothing matches
  }
}

function resultDirs(): string[] {
  const dir = path.join(work, "results");
  return existsSync(dir) ? readdirSync(dir).map((name) => path.join(dir, name)) : [];
}

describe("netmap-testbed run (real SSH hosts, stand-in pkt-gen)", () => {
  it("measures every run, receiver first, discards warm-up and writes results, manifest, report and plots", async () => {
    const file = path.join(work, "full.yaml");
    await writeFile(file, playbook("full", 2, FULL_RUNS));
    const pidfilesBefore = new Set(pidfiles());
    const child = runCli(file);
    const code = await exitWithin(child, 180_000);
    expect({ code, stderr: code === 0 ? "" : child.stderr }).toEqual({ code: 0, stderr: "" });
    expect(child.stderr).toMatch(
      /run 1 of 3 \(vale\), size 60 B, repetition 1 of 2 \[1\/6\]: measure 13\.393 Mpps/,
    );
    expect(child.stderr).toMatch(/run 2 of 3 \(guest\), size 124 B, repetition 1 of 1 \[5\/6\]/);

    // Start order: every sender started after the receiver of its measurement, on the right machine.
    const log = await events();
    const starts = log.filter((e) => e.event === "start");
    const vale = [
      ["rx", "vale0:b"],
      ["tx", "vale0:a"],
    ];
    expect(starts.map((e) => [e.role, e.port])).toEqual([
      ...vale,
      ...vale,
      ...vale,
      ...vale,
      ["rx", "vale0:b"],
      ["tx", "netmap:gp0"],
      ["rx", "netmap:tp0"],
      ["tx", "netmap:tp0"],
    ]);
    for (let i = 0; i < starts.length; i += 2) expect(starts[i + 1].t).toBeGreaterThan(starts[i].t);
    const [h1, h2] = lab.hosts;
    expect(starts.slice(0, 10).every((e) => e.ns === h1.namespace)).toBe(true);
    expect(starts[11].ns).toBe(h1.namespace);
    expect(starts[10].ns).toBe(h2.namespace);
    expect(starts.slice(0, 2).map((e) => e.cpu)).toEqual(["1", "0"]);
    // Each rx exited after its tx (the -W receiver drains), and nothing is left running.
    expect(log.filter((e) => e.event === "exit")).toHaveLength(starts.length);
    expect(leftovers()).toBe("");

    const [dir] = resultDirs();
    expect(path.basename(dir)).toMatch(/^\d{8}T\d{6}Z-full$/);
    const results = JSON.parse(await readFile(path.join(dir, "results.json"), "utf8")) as ResultsFile;
    expect(results.interrupted).toBe(false);
    expect(results.repetitions.map((r) => [r.run, r.size, r.repetition, r.status])).toEqual([
      ["vale", 60, 1, "ok"],
      ["vale", 60, 2, "ok"],
      ["vale", 1514, 1, "ok"],
      ["vale", 1514, 2, "ok"],
      ["guest", 124, 1, "ok"],
      ["nics", 508, 1, "ok"],
    ]);
    // Warm-up: the fake receiver's first second of traffic (0.1 Mpps) is recorded but never measured.
    const rx = results.samples.filter((s) => s.side === "rx");
    expect(rx.some((s) => s.phase === "warmup" && s.mpps === 0.1)).toBe(true);
    expect(rx.filter((s) => s.phase === "measure").every((s) => s.mpps === fakeRate(s.size))).toBe(true);
    for (const s of results.summaries) {
      expect(s.mpps.median).toBe(fakeRate(s.size));
      expect(s.mpps.stddev).toBeCloseTo(0, 9);
      // The fake's intervals stretch under load (~300 ms for -T 250), so allow for fewer samples.
      expect(s.mpps.n).toBeGreaterThanOrEqual(s.run === "nics" ? 1 : 3);
      expect(s.percentOfLineRate).toBeCloseTo(90, 0);
    }
    expect(results.summaries.map((s) => [s.run, s.size, s.repetitions])).toEqual([
      ["vale", 60, 2],
      ["vale", 1514, 2],
      ["guest", 124, 1],
      ["nics", 508, 1],
    ]);
    expect(results.repetitions[0].receiverSummary).toMatchObject({ frameSize: 60 });
    expect(results.repetitions[0].senderSummary).toMatchObject({ frameSize: 60 });

    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Manifest;
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(manifest.tool.version).toBe(pkg.version);
    expect(manifest.tool.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest.topology.sha256).toBe(
      createHash("sha256")
        .update(readFileSync(path.join(work, "topology.yaml")))
        .digest("hex"),
    );
    expect(manifest.machines.map((m) => [m.name, m.kind]).sort()).toEqual([
      ["h1", "host"],
      ["h2", "host"],
      ["vm1", "vm"],
    ]);
    const kernel = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
    expect(manifest.machines.every((m) => m.kernel === kernel && m.netmap.loaded === false)).toBe(true);
    expect(manifest.machines.find((m) => m.name === "h2")?.nics).toEqual([
      { interface: "tp0", ethtool: expect.objectContaining({ driver: "veth" }) as object },
    ]);
    // Tuning: recorded per machine and NIC.
    expect(manifest.tuning.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ machine: "h2", setting: "flowControl", target: "tp0" }),
        expect.objectContaining({ machine: "h1", setting: "governor", target: "cpus" }),
        expect.objectContaining({ machine: "vm1", setting: "offloads", target: "gp0" }),
      ]),
    );

    const report = await readFile(path.join(dir, "report.md"), "utf8");
    expect(report).toContain("# full: results");
    expect(report).toContain(`| 60 | ${fakeRate(60).toFixed(3)} |`);
    for (const plot of [
      "mpps-vs-size.svg",
      "mpps-vs-size-vale.svg",
      "mpps-vs-size-guest.svg",
      "mpps-vs-size-nics.svg",
    ]) {
      expect(report).toContain(`](${plot})`);
      const shape = checkSvg(await readFile(path.join(dir, plot), "utf8"));
      expect(shape.root).toBe("svg");
      expect(shape.texts).toContain("10 GbE line rate");
    }
    // No pidfile is left, and none was ever written where anyone could plant one.
    expect(pidfiles().filter((name) => !pidfilesBefore.has(name))).toEqual([]);
    expect(statSync(PROCESS_DIR).mode & 0o777).toBe(0o700);
    expect(readdirSync("/tmp").filter((name) => name.includes("pkt-gen") && name.endsWith(".pid"))).toEqual(
      [],
    );
  });

  it("Ctrl-C stops the remote pkt-gen processes and keeps what was measured", async () => {
    await rm(path.join(work, "results"), { recursive: true, force: true });
    await rm(path.join(work, "bin", "events.log"), { force: true });
    const file = path.join(work, "long.yaml");
    await writeFile(
      file,
      playbook(
        "long",
        60,
        `  - name: guest\n    sender: { vm: vm1, nic: 0 }\n    receiver: { valePort: "vale0:b" }\n    sizes: [60, 1514]\n`,
      ),
    );
    const child = runCli(file);
    // Wait until the measurement is well under way: sender started and measured samples streaming.
    const deadline = Date.now() + 60_000;
    while (!/measure \d+\.\d+ Mpps/.test(child.stderr)) {
      if (Date.now() > deadline) throw new Error(`no measured sample within 60 s:\n${child.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers()).not.toBe("");
    child.child.kill("SIGINT");
    const code = await exitWithin(child, 30_000);
    expect(code).toBe(130);
    expect(child.stderr).toContain("interrupted; stopping remote pkt-gen");
    expect(leftovers()).toBe("");
    const log = await events();
    expect(log.filter((e) => e.event === "start").map((e) => e.role)).toEqual(["rx", "tx"]);
    expect(log.filter((e) => e.event === "exit")).toHaveLength(2);

    const [dir] = resultDirs();
    const results = JSON.parse(await readFile(path.join(dir, "results.json"), "utf8")) as ResultsFile;
    expect(results.interrupted).toBe(true);
    expect(results.repetitions.map((r) => [r.size, r.status])).toEqual([[60, "interrupted"]]);
    const measured = results.samples.filter((s) => s.side === "rx" && s.phase === "measure");
    expect(measured.length).toBeGreaterThan(0);
    expect(results.summaries).toEqual([expect.objectContaining({ run: "guest", size: 60 })]);
    // The sender got SIGINT and printed its final report, as pkt-gen does on Ctrl-C.
    expect(results.repetitions[0].senderSummary).toMatchObject({ frameSize: 60 });
    expect(existsSync(path.join(dir, "manifest.json"))).toBe(true);
    expect(await readFile(path.join(dir, "report.md"), "utf8")).toContain(
      "interrupted (Ctrl-C): partial results",
    );
  });

  it("never signals a process its pidfile names unless that process is the one it started", async () => {
    const victim = spawn("sleep", ["300"], { stdio: "ignore" });
    const session = new HostSession({
      name: "h1",
      address: lab.hosts[0].address,
      hostKey: lab.hosts[0].hostKey,
      credentials: { privateKey: lab.hosts[0].privateKey },
    });
    const name = `pkt-gen.planted-${String(process.pid)}.pid`;
    try {
      // The program overwrites its own pidfile with another process's pid, as a planted file would.
      const planted = RemoteProcess.start(
        session,
        "planted",
        ["sh", "-c", `echo ${String(victim.pid)} >"${PROCESS_DIR}/${name}"; exec sleep 31`],
        name,
        () => undefined,
      );
      // (The namespace hosts share this machine's /run: wait until the plant is in place.)
      const deadline = Date.now() + 10_000;
      const plantedFile = path.join(PROCESS_DIR, name);
      while (!(existsSync(plantedFile) && readFileSync(plantedFile, "utf8").trim() === String(victim.pid))) {
        if (Date.now() > deadline) throw new Error(`${plantedFile} never named the victim`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await planted.pid(2000)).toBeUndefined();
      const outcome = await planted.stop({ graceMs: 500, killMs: 500 });
      expect(outcome.killed).toBe(false);
      expect(victim.exitCode).toBeNull();
      expect(victim.signalCode).toBeNull();
      execFileSync("kill", ["-0", String(victim.pid)]);
      // A started program is found by its token and stopped.
      const own = RemoteProcess.start(
        session,
        "own",
        ["sleep", "30"],
        `pkt-gen.own-${String(process.pid)}.pid`,
        () => undefined,
      );
      expect(await own.pid()).toEqual(expect.any(Number));
      expect(await own.stop({ graceMs: 2000, killMs: 2000 })).toMatchObject({ gone: true });
    } finally {
      // The planted program was never signalled (its pid was never trusted): end it here.
      spawnSync("pkill", ["-x", "-f", "sleep 31"], { stdio: "ignore" });
      victim.kill("SIGKILL");
      await session.close();
    }
  });
});
