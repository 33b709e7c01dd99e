/**
 * A testbed of several hosts through the real engine: three stand-in hosts
 * (test/support/stand-in-hosts.ts: netns hosts with roots of their own, the stand-in kernel, init
 * and vale-ctl) each get the stand-in netmap, a VALE switch with a persistent port, a pipe and a VM
 * of the stand-in QEMU, from this project's program. Checked: one host builds netmap and QEMU and
 * the others import its builds; everything runs on every host; a second `up` and `refresh` change
 * nothing (the `up` touches no host); `status` finds no drift; `destroy` leaves each host's root as
 * it was, but for the build caches it keeps by design; this machine's own files are never touched.
 * The same hosts carry `npm run bench:scale` (test/bench/scale-deploy-bench.ts).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { statusCommand } from "../../components/cli/status-command";
import { assertRunnerBuilt } from "../../components/pulumi";
import { captureIo } from "../support/cli-capture";
import { PROJECT_ROOT, changes, engineStack, type EngineStack } from "../support/engine";
import { startFakeQemuStandIns, type FakeQemuStandIns } from "../support/fake-qemu-hosts";
import {
  createStandInHosts,
  rootChanges,
  standInTopology,
  type StandInHosts,
} from "../support/stand-in-hosts";

const STACK = `nmtb-stand-in-${process.pid}`;
const HOSTS = 3;
/**
 * What destroy keeps on a host by design (keepBuildCache): the netmap build and sources, and the
 * QEMU install with (on the host that built it) its build tree.
 */
const KEPT_CACHES =
  /^(var\/cache\/netmap-testbed|opt\/netmap-testbed\/qemu|var\/lib\/netmap-testbed\/qemu)(\/|$)|^(var\/cache|opt\/netmap-testbed|var\/lib\/netmap-testbed)$/;
/** Where a deployment writes on a host; none of it may appear on this machine. */
const DEPLOYED_PATHS = [
  "/opt/netmap-testbed",
  "/var/lib/netmap-testbed",
  "/var/cache/netmap-testbed",
  "/etc/modprobe.d/netmap-testbed.conf",
  "/etc/systemd/system/netmap-testbed-modules.service",
  "/usr/lib/modules",
];

describe("a testbed of stand-in hosts through the real engine", () => {
  let hosts: StandInHosts;
  let standIns: FakeQemuStandIns;
  let engine: EngineStack;
  let dir: string;
  let topology: string;
  let before: string[][];
  let machineBefore: boolean[];

  const onHost = async (i: number, command: string): Promise<string> => {
    const result = await hosts.hosts[i].exec(["bash", "-c", command]);
    if (result.code !== 0)
      throw new Error(`host h${i + 1}: ${command}: exit ${result.code}\n${result.stderr}`);
    return result.stdout;
  };
  const machineState = (): boolean[] => DEPLOYED_PATHS.map((p) => fs.existsSync(p));

  beforeAll(async () => {
    try {
      assertRunnerBuilt();
    } catch {
      execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-stand-in-"));
    machineBefore = machineState();
    hosts = await createStandInHosts(HOSTS, "si");
    standIns = await startFakeQemuStandIns(dir, hosts.lab.gateway);
    topology = path.join(dir, "topology.yaml");
    fs.writeFileSync(
      topology,
      standInTopology(STACK, hosts.hosts, { ports: 1, vms: 1, vmSections: standIns.topology }),
    );
    before = await Promise.all(hosts.hosts.map(rootChanges));
    engine = await engineStack({
      name: STACK,
      config: { topology, sshPrivateKey: { secret: hosts.privateKey } },
      env: { NMTB_ARTIFACT_CACHE_DIR: path.join(dir, "artifacts") },
    });
  }, 10 * 60_000);

  afterAll(async () => {
    if (engine) {
      await engine.destroy().catch(() => undefined);
      await engine.dispose();
    }
    standIns?.close();
    await hosts?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 10 * 60_000);

  it("up builds once, imports the builds on the other hosts and deploys every host", async () => {
    const up = await engine.up();
    expect(Object.keys(changes(up))).toEqual(["create"]);
    expect(Object.keys(up.ssh).sort()).toEqual(["h1", "h2", "h3"]);

    const state = JSON.parse(await engine.exportState()) as {
      checkpoint: {
        latest: { resources: Array<{ type: string; outputs?: { result?: { share?: { role?: string } } } }> };
      };
    };
    const roles = (kind: string): string[] =>
      state.checkpoint.latest.resources
        .filter((resource) => resource.type.endsWith(`:${kind}`))
        .map((resource) => resource.outputs?.result?.share?.role ?? "none")
        .sort();
    expect(roles("NetmapBuild")).toEqual(["built", "imported", "imported"]);
    expect(roles("QemuBuild")).toEqual(["built", "imported", "imported"]);

    for (let i = 0; i < HOSTS; i++) {
      expect(await onHost(i, "cat /sys/module/netmap/parameters/buf_num")).toBe("4096\n");
      expect(await onHost(i, `systemctl is-active netmap-testbed-vm-h${i + 1}vm0.service`)).toBe("active\n");
      expect(await onHost(i, "systemctl is-enabled netmap-testbed-modules.service")).toBe("enabled\n");
      expect(await onHost(i, "cat /run/nmtb-fake-vale/attached")).toContain(`vale${i + 1} p0`);
    }
    expect(machineState()).toEqual(machineBefore);
  });

  it("a second up changes nothing and touches no host; refresh and status find no drift", async () => {
    const again = await engine.up();
    expect(changes(again)).toEqual({});
    expect(again.ssh).toEqual({});
    expect(changes(await engine.refresh())).toEqual({});

    const capture = captureIo();
    const identity = path.join(dir, "id_ed25519");
    fs.writeFileSync(identity, hosts.privateKey, { mode: 0o600 });
    const code = await statusCommand([topology, "--identity", identity], capture.io);
    expect({ code, err: capture.err(), out: code === 0 ? "" : capture.out() }).toEqual({
      code: 0,
      err: "",
      out: "",
    });
  });

  it("destroy leaves every host's root as it was, but for the build caches", async () => {
    const destroyed = await engine.destroy();
    expect(Object.keys(changes(destroyed))).toEqual(["delete"]);
    const after = await Promise.all(hosts.hosts.map(rootChanges));
    expect(after.map((paths) => paths.filter((p) => !KEPT_CACHES.test(p)))).toEqual(before);
    for (let i = 0; i < HOSTS; i++) {
      expect(await onHost(i, "lsmod | tail -n +2; pgrep -f '[n]mtb-fake-vm' || true")).toBe("");
    }
    expect(machineState()).toEqual(machineBefore);
  });
});
