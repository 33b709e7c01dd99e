/**
 * A host that reboots while a VM starts (`npm run test:faults`; docs/reliability.md), on a Debian
 * guest through the real engine, as deploy-faults.test.ts does for the netmap build. The VM is the
 * stand-in QEMU's (test/support/fake-qemu-hosts.ts): what is under test is the VM step and its
 * recovery, not a guest kernel.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { utils as sshUtils } from "ssh2";
import type { HostSession } from "../../components/host";
import { assertRunnerBuilt } from "../../components/pulumi";
import type { GuestHost } from "../fixtures/guest-host";
import { disposeFaultStack, REBOOT_BOUND_MS, startFaultGuest } from "../support/fault-guest";
import { changes, engineStack, type EngineStack } from "../support/engine";
import {
  fakeNetmapTopology,
  guestShell,
  guestState,
  reconnectGuest,
  type GuestState,
} from "../support/fake-netmap-hosts";
import { startFakeQemuStandIns, vmStatus, type FakeQemuStandIns } from "../support/fake-qemu-hosts";

const STACK = `nmtb-vm-faults-${process.pid}`;

describe("a host that reboots while a VM starts: the run names host and step; refresh and up start the VM", () => {
  let host: GuestHost;
  let session: HostSession;
  let before: GuestState;
  let engine: EngineStack;
  let topologyDir: string;
  let standIns: FakeQemuStandIns | undefined;

  const sh = (command: string): Promise<string> => guestShell(session, command);

  async function reconnect(boundMs: number): Promise<void> {
    session = await reconnectGuest(host, session, boundMs);
  }

  beforeAll(async () => {
    assertRunnerBuilt();
    topologyDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-vm-faults-"));
    ({ host, session } = await startFaultGuest("nmtb-vm-faults"));
    standIns = await startFakeQemuStandIns(topologyDir);
    const topology = path.join(topologyDir, "topology.yaml");
    fs.writeFileSync(
      topology,
      `${fakeNetmapTopology(STACK, [host])}${standIns.topology}switches:
  vale0:
    host: g1
    ports:
      p1: {}
vms:
  vm1:
    host: g1
    image: tiny
    cpus: 1
    memory: 256MiB
    nics:
      - { switch: vale0, port: p1 }
`,
    );
    before = await guestState(session);
    engine = await engineStack({
      name: STACK,
      config: {
        topology,
        sshPrivateKey: { secret: host.privateKey },
        guestAuthorizedKey: sshUtils.generateKeyPairSync("ed25519").public,
      },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    if (engine) await disposeFaultStack(engine);
    if (session) await session.close();
    if (host) await host.stop();
    standIns?.close();
    if (topologyDir) fs.rmSync(topologyDir, { recursive: true, force: true });
  }, 15 * 60_000);

  it("reboot during `vm:vm1`, then refresh and up: the VM runs, a second up does nothing, destroy restores the host", async () => {
    const run = await engine.faultDuring("up", /^vm:vm1$/, async () => {
      await sh("systemd-run --quiet --no-block --collect -- systemctl reboot");
    });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('host g1: step "vm:vm1"');
    await reconnect(REBOOT_BOUND_MS);
    // What lived in memory (netmap's ports, the VM) went with the reboot: refresh finds out, up repairs.
    await engine.refresh();
    await engine.up();
    expect(await vmStatus(session, "vm1")).toMatchObject({ present: true, running: true });
    expect(await sh("systemctl is-active netmap-testbed-vm-vm1.service || true")).toMatch(/^active/);
    expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
    expect(changes(await engine.up())).toEqual({});
    await engine.destroy();
    expect(await guestState(session)).toEqual(before);
  });
});
