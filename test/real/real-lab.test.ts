/**
 * The main job for real, for developers (not CI: netmap and QEMU cannot be downloaded there): the
 * real netmap and ptnet QEMU sources, given as tarballs or directories on this machine, deployed
 * by the real Pulumi engine onto a local-lab host, as `npm run demo` does. Both are compiled here,
 * in the lab image's root (LabNativeBuild); the lab host imports them. Then, on the host, with the
 * real tools: netmap.ko's vermagic, the real vale-ctl's listing, the QEMU binary's ptnet device and
 * netmap netdev; a host playbook over the VALE switch and the pipe (its Mpps printed), after which
 * the persistent ports it lent to pkt-gen are listed intact; a no-op `up`; and a destroy after
 * which no lab host is left on this machine.
 *
 * The VM's image is the lab's own (`recipe: lab`), packed here and uploaded either way. Where the
 * lab host can nest KVM (kernel-builds/lab/nested-kvm.sh), the VM boots with the real netmap built
 * here for its kernel in its seed; logged in as its user through the lab host (the runner's tunnel,
 * the host key pinned from the console): `lspci -n` shows the ptnet NIC (1b36:000d), netmap is
 * loaded with ptnet_vnet_hdr=0 and its ptnet driver has bound the NIC. Without KVM the VM would be
 * emulated inside the emulated lab host (more than 24 min to boot on 2 cores) and ptnet's data
 * path could not start anyway (its notifications are KVM irqfds and ioeventfds), so `up` excludes
 * it, as the demo does, and the guest test is skipped with the reason.
 *
 * Run: `npm run test:real -- --netmap SRC --qemu SRC` (tools/test-real.sh).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { HostSession } from "../../components/host";
import { hostKeyFromConsole } from "../../components/playbooks/host-keys";
import { SshJump } from "../../components/playbooks/jump";
import { assertRunnerBuilt } from "../../components/pulumi";
import { PROJECT_ROOT, changes, engineStack, type EngineStack } from "../support/engine";

const STACK = `nmtb-real-lab-${process.pid}`;
const NETMAP = process.env.NMTB_REAL_NETMAP ?? "";
const QEMU = process.env.NMTB_REAL_QEMU ?? "";

interface LabHostOutput {
  port: number;
  built: boolean;
  kernelRelease: string;
  netmapCommit: string;
}

describe("the local lab with the real netmap and QEMU, built here, through the real engine", () => {
  let engine: EngineStack;
  let work: string;
  let session: HostSession | undefined;
  let lab: LabHostOutput;
  const stateRoot = path.join(os.homedir(), ".cache", "netmap-testbed", "lab", `${STACK}-lab1`);
  /** The lab host's key as boot-host.sh pinned it (type and key, without the comment). */
  const labHostKey = (): string =>
    fs
      .readFileSync(path.join(stateRoot, "ssh_host_ed25519_key.pub"), "utf8")
      .trim()
      .split(" ")
      .slice(0, 2)
      .join(" ");
  const sh = async (command: string): Promise<string> => {
    if (!session) throw new Error("no session to the lab host");
    const result = await session.run("real-lab", ["bash", "-c", command], { timeoutMs: 120_000 });
    return result.stdout + result.stderr;
  };

  function topology(): string {
    return `apiVersion: netmap-testbed/v1
name: ${STACK}
netmap:
  source: { path: ${NETMAP} }
  drivers: []
  params: { ptnet_vnet_hdr: 0 }
qemu:
  source: { path: ${QEMU} }
images:
  lab: { recipe: lab }
hosts:
  lab1:
    localLab: { cpus: 2, memory: 3GiB, disk: 8GiB }
    managementInterface: eth0
switches:
  vale0:
    host: lab1
    ports:
      p0: {}
      p1: { rings: 2, slots: 1024 }
      g1: {}
pipes:
  chain0: { host: lab1 }
vms:
  guest1:
    host: lab1
    image: lab
    cpus: 1
    memory: 768MiB
    nics:
      - { switch: vale0, port: g1 }
`;
  }

  const nested = spawnSync("bash", [path.join(PROJECT_ROOT, "kernel-builds/lab/nested-kvm.sh")], {
    encoding: "utf8",
  });
  const vmsHere = nested.status === 0;
  const exclude = vmsHere ? [] : ["--exclude", "**guest1-vm"];
  const up = (...extra: string[]): Promise<string> =>
    engine.cli(["up", "--yes", "--skip-preview", ...exclude, ...extra], { timeoutMs: 30 * 60_000 });

  beforeAll(async () => {
    for (const [what, source] of [
      ["--netmap", NETMAP],
      ["--qemu", QEMU],
    ]) {
      if (!source || !fs.existsSync(source))
        throw new Error(`give ${what}: npm run test:real -- --netmap SRC --qemu SRC`);
    }
    try {
      assertRunnerBuilt();
    } catch {
      execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-real-lab-"));
    const file = path.join(work, "topology.yaml");
    fs.writeFileSync(file, topology());
    engine = await engineStack({ name: STACK, config: { topology: file } });
  }, 10 * 60_000);

  afterAll(async () => {
    await session?.close();
    if (engine) {
      await engine.destroy().catch(() => undefined);
      await engine.dispose();
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 15 * 60_000);

  it(
    "up builds netmap and QEMU here, and the lab host imports both (nothing compiled under TCG)",
    async () => {
      const started = Date.now();
      process.stdout.write(await up());
      process.stdout.write(`up (cold or warm builds): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      lab = ((await engine.stack.outputs()).hosts.value as Record<string, LabHostOutput>).lab1;
      expect(lab.built).toBe(false);
      session = new HostSession({
        name: "lab1",
        address: "127.0.0.1",
        port: lab.port,
        user: "root",
        hostKey: labHostKey(),
        credentials: { privateKey: fs.readFileSync(path.join(stateRoot, "id_ed25519"), "utf8") },
      });
      await session.connect();
      expect(await sh("modinfo -F vermagic netmap")).toContain(lab.kernelRelease);
      const listing = await sh("/opt/netmap-testbed/bin/vale-ctl; true");
      expect(listing).toMatch(/^vale0:p0 bridge_idx \d+ port_idx \d+$/m);
      expect(listing).toMatch(/^vale0:p1 bridge_idx \d+ port_idx \d+$/m);
      const qemu = "$(ls -d /opt/netmap-testbed/qemu/*/bin/qemu-system-x86_64)";
      expect(await sh(`${qemu} -device help`)).toMatch(
        /name "ptnet-pci", bus PCI, desc "Netmap passthrough network device"/,
      );
      expect(await sh(`${qemu} -netdev help`)).toMatch(/^netmap$/m);
      expect(await sh("cat /opt/netmap-testbed/qemu/*/.netmap-testbed-imported")).toMatch(
        /^sha256 [0-9a-f]{64}$/m,
      );
      process.stdout.write(`real vale-ctl:\n${listing}netmap commit: ${lab.netmapCommit}\n`);
      // A second up changes nothing.
      await up("--expect-no-changes");
    },
    60 * 60_000,
  );

  if (!vmsHere) {
    process.stdout.write(`guest1 is not started here: ${nested.stderr.trim()}\n`);
  }
  (vmsHere ? it : it.skip)(
    "the guest runs the lab's image with netmap from its seed, and netmap's ptnet driver has its ptnet NIC",
    async () => {
      const labKey = fs.readFileSync(path.join(stateRoot, "id_ed25519"), "utf8");
      const consoleLog = await sh("cat /var/lib/netmap-testbed/vms/guest1/console.log");
      const hostKey = hostKeyFromConsole(consoleLog);
      if (!hostKey) throw new Error(`no host key on guest1's console:\n${consoleLog.slice(-3000)}`);
      const jump = await SshJump.open({
        name: "lab1",
        address: "127.0.0.1",
        port: lab.port,
        hostKey: labHostKey(),
        credentials: { privateKey: labKey },
      });
      const guest = new HostSession({
        name: "guest1",
        address: "127.0.0.1",
        port: await jump.forward("127.0.0.1", 10022),
        user: "netmap",
        hostKey,
        credentials: { privateKey: labKey },
      });
      try {
        await guest.connect();
        const inGuest = async (command: string): Promise<string> => {
          const r = await guest.run("real-guest", ["bash", "-c", command], { timeoutMs: 300_000 });
          return r.stdout + r.stderr;
        };
        const release = (await inGuest("uname -r")).trim();
        expect(release).toBe(lab.kernelRelease);
        const lspci = await inGuest("lspci -n");
        expect(lspci).toMatch(/ 1b36:000d/);
        expect(await inGuest("cat /run/nmtb-seed.setup")).toBe("ok\n");
        expect(await inGuest("lsmod")).toMatch(/^netmap\s/m);
        expect(await inGuest("cat /sys/module/netmap/parameters/ptnet_vnet_hdr")).toBe("0\n");
        const bound = await inGuest("ls /sys/bus/pci/drivers/ptnetmap-guest-drivers/");
        expect(bound).toMatch(/^0000:/m);
        const ifname = (await inGuest("ls /sys/bus/pci/drivers/ptnetmap-guest-drivers/0000:*/net/")).trim();
        expect(ifname).toMatch(/^eth\d$/);
        // Opening the port needs ptnet's KVM notifications: shown, not judged, under TCG.
        const open = await inGuest(
          `sudo -n timeout 20 /opt/netmap-testbed/bin/pkt-gen -i netmap:${ifname} -f tx -n 1000 -l 60 2>&1 | tail -n 8; true`,
        );
        process.stdout.write(
          `guest1 (${release}):\n${lspci}netmap: ${ifname} bound by ptnetmap-guest-drivers (${bound.trim()})\n` +
            `pkt-gen -i netmap:${ifname} under TCG:\n${open}\n`,
        );
      } finally {
        await guest.close();
        await jump.close();
      }
    },
    15 * 60_000,
  );

  it(
    "a host playbook measures VALE and the pipe, and leaves the lent persistent ports intact",
    async () => {
      const playbook = path.join(work, "host.yaml");
      fs.writeFileSync(
        playbook,
        `apiVersion: netmap-testbed/playbook-v1
name: real-lab-host
topology: topology.yaml
defaults: { sizes: [60], duration: 5, warmup: 1, repetitions: 1, pin: { sender: [0], receiver: [1] } }
runs:
  - name: vale
    sender: { valePort: "vale0:p0" }
    receiver: { valePort: "vale0:p1" }
  - name: pipe
    sender: { pipe: chain0, id: 1, end: master }
    receiver: { pipe: chain0, id: 1, end: slave }
`,
      );
      // As the demo runs it: the stack names the topology, and the lab host's port, host key and
      // login key come from what the lab recorded when it booted (no --identity, no key file).
      const output = execFileSync(
        "node",
        [
          path.join(PROJECT_ROOT, "dist/components/cli/main.js"),
          "run",
          playbook,
          "--stack",
          STACK,
          "--out",
          path.join(work, "results"),
        ],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, SSH_AUTH_SOCK: "" },
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          timeout: 10 * 60_000,
        },
      );
      const results = fs.readdirSync(path.join(work, "results"));
      const file = JSON.parse(
        fs.readFileSync(path.join(work, "results", results[0], "results.json"), "utf8"),
      ) as { summaries: { run: string; mpps: { median: number } }[] };
      for (const run of ["vale", "pipe"]) {
        const summary = file.summaries.find((s) => s.run === run);
        expect(summary?.mpps.median).toBeGreaterThan(0);
        process.stdout.write(`${run}: ${summary?.mpps.median.toFixed(3)} Mpps (60 B frames)\n`);
      }
      process.stdout.write(output);
      const listing = await sh("/opt/netmap-testbed/bin/vale-ctl; true");
      expect(listing).toMatch(/^vale0:p0 bridge_idx/m);
      expect(listing).toMatch(/^vale0:p1 bridge_idx/m);
      expect(listing).not.toMatch(/^p[01] /m);
    },
    30 * 60_000,
  );

  it(
    "destroy removes the lab host; the builds stay in this machine's cache",
    async () => {
      await session?.close();
      session = undefined;
      const destroyed = await engine.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(20);
      expect(fs.existsSync(stateRoot)).toBe(false);
      const qemus = spawnSync("pgrep", ["-af", "qemu-system"], { encoding: "utf8" }).stdout;
      expect(qemus).not.toContain(STACK);
      const artifacts = path.join(os.homedir(), ".cache", "netmap-testbed", "artifacts");
      expect(fs.readdirSync(artifacts).filter((f) => f.endsWith(".tgz")).length).toBeGreaterThanOrEqual(2);
    },
    30 * 60_000,
  );
});
