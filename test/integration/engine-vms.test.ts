/**
 * VMs under the real Pulumi engine (see engine-lifecycle.test.ts for the engine and the stand-in
 * netmap): a topology with a ptnet QEMU build, a guest image and two VMs on a VALE switch,
 * deployed onto a real Debian guest through stacks/index.ts. Checked on the host: the prepare step
 * installs what the VM steps run; both VMs run as systemd units (their VALE ports are their QEMUs'
 * own, so only the host's port pg is a step); a VM stopped behind the tool's
 * back shows on refresh as drift (an update, never a deletion) and `up` starts it again; a new
 * memory size replaces that VM only; a netmap module parameter stops both VMs before netmap is
 * unloaded and starts them after their ports are back; destroy leaves the host as it was.
 *
 * The QEMU source is the stand-in tree test/fixtures/fake-qemu (configure/make/install like the
 * fork's), whose installed binary runs a VM's argv with test/fixtures/fake-qemu-vm: a process
 * with the pidfile, QMP socket, console and SSH banner vm.sh waits for. The real ptnet QEMU booting
 * a real guest is checked by `npm run test:real` (docs/local-lab.md), not in CI.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { utils as sshUtils } from "ssh2";
import type { HostSession } from "../../components/host";
import { assertRunnerBuilt } from "../../components/pulumi";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { PROJECT_ROOT, changes, engineStack, stepsRun, type EngineStack } from "../support/engine";
import {
  fakeNetmapTopology,
  guestHostSession,
  guestShell,
  guestState,
  stageFakeNetmap,
  stageFakeValeCtl,
  type GuestState,
} from "../support/fake-netmap-hosts";
import {
  startFakeQemuStandIns,
  vmStatus as vmStatusOn,
  type FakeQemuStandIns,
  type VmStatus,
} from "../support/fake-qemu-hosts";

const STACK = `nmtb-engine-vms-${process.pid}`;

describe("the real Pulumi engine deploys, repairs, changes and destroys VMs on a real guest", () => {
  let host: GuestHost;
  let session: HostSession;
  let before: GuestState;
  let engine: EngineStack;
  let topologyDir: string;
  let standIns: FakeQemuStandIns | undefined;

  const sh = (command: string): Promise<string> => guestShell(session, command);

  function topology(options: { bufNum: number; vm1Memory: string }): string {
    const base = fakeNetmapTopology(STACK, [host]).replace(
      "params: { buf_num: 4096 }",
      `params: { buf_num: ${options.bufNum} }`,
    );
    return `${base}${standIns?.topology ?? ""}switches:
  vale0:
    host: g1
    ports:
      p1: {}
      p2: {}
      pg: {}
vms:
  vm1:
    host: g1
    image: tiny
    cpus: 1
    memory: ${options.vm1Memory}
    nics:
      - { switch: vale0, port: p1 }
  vm2:
    host: g1
    image: tiny
    cpus: 1
    memory: 256MiB
    nics:
      - { switch: vale0, port: p2 }
`;
  }

  function writeTopology(options: { bufNum: number; vm1Memory: string }): string {
    const file = path.join(topologyDir, `topology-${options.bufNum}-${options.vm1Memory}.yaml`);
    fs.writeFileSync(file, topology(options));
    return file;
  }

  const vmStatus = (vm: string): Promise<VmStatus> => vmStatusOn(session, vm);

  async function expectRunning(vm: string, memory: string): Promise<number> {
    const status = await vmStatus(vm);
    expect(status).toMatchObject({ present: true, running: true });
    expect(status.argv).toEqual(expect.arrayContaining(["-m", memory]));
    expect(await sh(`systemctl is-active netmap-testbed-vm-${vm}.service || true`)).toMatch(/^active/);
    return status.pid ?? -1;
  }

  beforeAll(async () => {
    try {
      assertRunnerBuilt();
    } catch {
      execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
    topologyDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-engine-vms-"));
    [host] = await startGuestHosts({ names: ["nmtb-engine-vms"] });
    session = guestHostSession(host);
    await stageFakeNetmap(session);
    await stageFakeValeCtl(session);
    standIns = await startFakeQemuStandIns(topologyDir);
    before = await guestState(session);
    const guestKey = sshUtils.generateKeyPairSync("ed25519").public;
    engine = await engineStack({
      name: STACK,
      config: {
        topology: writeTopology({ bufNum: 4096, vm1Memory: "256MiB" }),
        sshPrivateKey: { secret: host.privateKey },
        guestAuthorizedKey: guestKey,
      },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    if (engine) {
      await engine.destroy().catch(() => undefined);
      await engine.dispose();
    }
    if (session) await session.close();
    if (host) await host.stop();
    if (topologyDir) fs.rmSync(topologyDir, { recursive: true, force: true });
    standIns?.close();
  }, 15 * 60_000);

  it(
    "up installs the VM tools in prepare, builds QEMU, fetches the image and starts both VMs",
    async () => {
      // No seed tool on the host (the stock lab image has none): prepare's --vm-tools installs it.
      await sh("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q genisoimage >/dev/null 2>&1; true");
      expect(await sh("command -v genisoimage || echo missing")).toMatch(/^missing/);
      const up = await engine.up();
      expect(changes(up).create).toBeGreaterThanOrEqual(20);
      // The controller's QEMU source reached the host's cache, named by its digest, and no upload is left in /tmp.
      expect(stepsRun(up)).toContain("qemu-source-upload");
      expect(await sh("ls /var/cache/netmap-testbed/sources; ls /tmp | grep -c nmtb-source || true")).toMatch(
        /^[0-9a-f]{64}\.tar\.gz\n0\s*$/,
      );
      expect(await sh("command -v genisoimage qemu-img python3 taskset | wc -l")).toMatch(/^4\s*$/);
      // installBuildDeps: false reached the host: none of QEMU's build dependencies came in.
      expect(await sh("dpkg-query -W -f='${Status}' libglib2.0-dev 2>/dev/null || echo absent")).not.toMatch(
        /install ok installed/,
      );
      await expectRunning("vm1", "256M");
      await expectRunning("vm2", "256M");
      const outputs = await engine.stack.outputs();
      expect(Object.keys(outputs.vms.value as Record<string, unknown>).sort()).toEqual(["vm1", "vm2"]);
      expect(changes(await engine.up())).toEqual({});
    },
    30 * 60_000,
  );

  it(
    "a VM stopped behind the tool's back is drift on refresh (not gone), and up starts it again",
    async () => {
      const pid1 = (await vmStatus("vm1")).pid;
      await sh("systemctl stop netmap-testbed-vm-vm2.service");
      const refreshed = await engine.refresh();
      expect(changes(refreshed)).toEqual({ update: 1 });
      expect(changes(refreshed).delete ?? 0).toBe(0);
      const repaired = await engine.up();
      expect(changes(repaired).delete ?? 0).toBe(0);
      expect(stepsRun(repaired)).toEqual(expect.arrayContaining(["vm:vm2"]));
      expect(stepsRun(repaired)).not.toContain("vm:vm1");
      await expectRunning("vm2", "256M");
      expect((await vmStatus("vm1")).pid).toBe(pid1);
      expect(changes(await engine.refresh())).toEqual({});
    },
    20 * 60_000,
  );

  it(
    "a new memory size replaces that VM only",
    async () => {
      const pid2 = (await vmStatus("vm2")).pid;
      await engine.stack.setConfig("netmap-testbed:topology", {
        value: writeTopology({ bufNum: 4096, vm1Memory: "384MiB" }),
      });
      const up = await engine.up();
      expect(changes(up)).toEqual({ replace: 1 });
      expect(stepsRun(up)).toEqual(["vm:vm1 (delete)", "vm:vm1"]);
      await expectRunning("vm1", "384M");
      expect((await vmStatus("vm2")).pid).toBe(pid2);
    },
    20 * 60_000,
  );

  it(
    "a module parameter stops the VMs before netmap is unloaded and starts them once it is back",
    async () => {
      await engine.stack.setConfig("netmap-testbed:topology", {
        value: writeTopology({ bufNum: 8192, vm1Memory: "384MiB" }),
      });
      const up = await engine.up();
      // load, persist, the host's port pg and both VMs (their ports are their QEMUs'); nothing of
      // the build, QEMU, image or seeds.
      expect(changes(up)).toEqual({ replace: 5 });
      const steps = stepsRun(up);
      const at = (step: string): number => {
        const index = steps.indexOf(step);
        if (index < 0) throw new Error(`step ${step} did not run; ran: ${steps.join(", ")}`);
        return index;
      };
      for (const vm of ["vm1", "vm2"]) {
        expect(at(`vm:${vm} (delete)`)).toBeLessThan(at("netmap-load (delete)"));
        expect(at(`vm:${vm}`)).toBeGreaterThan(at("netmap-load"));
      }
      expect(at("vale-port:vale0:pg (delete)")).toBeLessThan(at("netmap-load (delete)"));
      expect(at("vale-port:vale0:pg")).toBeGreaterThan(at("netmap-load"));
      expect(steps.some((step) => /^vale-port:vale0:p[12]/.test(step))).toBe(false);
      expect(
        steps.some((step) => /^(netmap-(build|install|prepare|fetch)|qemu-build|image-|vm-seed)/.test(step)),
      ).toBe(false);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("8192");
      await expectRunning("vm1", "384M");
      await expectRunning("vm2", "256M");
    },
    20 * 60_000,
  );

  it(
    "destroy stops the VMs and leaves the host as it was",
    async () => {
      const destroyed = await engine.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(20);
      const after = await guestState(session);
      expect(after).toEqual(before);
    },
    20 * 60_000,
  );
});
