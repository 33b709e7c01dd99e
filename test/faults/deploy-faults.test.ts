/**
 * Faults in the middle of a deployment (`npm run test:faults`; docs/reliability.md): each fault is
 * injected at a named point of a real `pulumi up` or `pulumi destroy` of this project's program on
 * a Debian guest with its own kernel, then the documented recovery is run, then the host is
 * checked to be either as before or fully deployed, never half.
 *
 * The points are found the way the engine tests find them: the provider writes every command it
 * starts to an audit log (NMTB_SSH_AUDIT_LOG), and the fault is injected once the step's command
 * has started. The netmap here is the stand-in tree (test/fixtures/fake-netmap), as in
 * engine-lifecycle; its build takes about 30 s under TCG, long enough to be interrupted.
 *
 * Not in CI: about 11 minutes under TCG (15 with vm-start-faults), which CI, kept under 40, has no room for.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HostSession } from "../../components/host";
import { assertRunnerBuilt } from "../../components/pulumi";
import type { GuestHost } from "../fixtures/guest-host";
import { disposeFaultStack, REBOOT_BOUND_MS, startFaultGuest } from "../support/fault-guest";
import { changes, engineStack, type EngineStack, type FaultedRun } from "../support/engine";
import {
  fakeNetmapTopology,
  guestShell,
  guestState,
  reconnectGuest,
  type GuestState,
} from "../support/fake-netmap-hosts";

const STACK = `nmtb-faults-${process.pid}`;
const BUILD_ROOT = "/var/cache/netmap-testbed/build";

describe("faults during a deployment: each leaves the host as before or fully deployed, and a rerun converges", () => {
  let host: GuestHost;
  let session: HostSession;
  let before: GuestState;
  let engine: EngineStack;
  let topologyDir: string;

  const sh = (command: string): Promise<string> => guestShell(session, command);

  function writeTopology(extraHosts = ""): string {
    const file = path.join(topologyDir, "topology.yaml");
    fs.writeFileSync(
      file,
      `${fakeNetmapTopology(STACK, [host])}${extraHosts}switches:
  vale0:
    host: g1
    ports:
      p1: {}
`,
    );
    return file;
  }

  async function reconnect(boundMs: number): Promise<void> {
    session = await reconnectGuest(host, session, boundMs);
  }

  /** Runs a command on the guest outside any SSH session, so that it outlives sshd (or the session). */
  const detached = (command: string): Promise<string> =>
    sh(`systemd-run --quiet --no-block --collect -- bash -c ${JSON.stringify(command)}`);

  /** Everything the topology asks for is there and working. */
  async function expectDeployed(): Promise<void> {
    expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
    expect(await sh("ls /sys/module/netmap/holders")).toMatch(/dummy/);
    expect((await sh("vale-ctl; true")).trim()).toMatch(/^vale0:p1 bridge_idx \d+ port_idx \d+$/);
    expect(await sh("systemctl is-enabled netmap-testbed-modules.service || true")).toMatch(/enabled/);
  }

  /** The documented recovery after a failed run: `pulumi up` again, then a no-op `up` proves convergence. */
  async function rerunConverges(): Promise<void> {
    await engine.up();
    await expectDeployed();
    expect(changes(await engine.up())).toEqual({});
  }

  /** How a failed run names where it failed: host, step, and the tail of the step's output. */
  function expectNamedFailure(run: FaultedRun, step: string): void {
    expect(run.code).not.toBe(0);
    expect(run.output).toContain(`host g1: step "${step}"`);
    expect(run.output).toMatch(/last \d+ line\(s\) of output:/);
  }

  async function destroyToBefore(): Promise<void> {
    await engine.destroy();
    expect(await guestState(session)).toEqual(before);
  }

  beforeAll(async () => {
    assertRunnerBuilt();
    topologyDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-faults-topo-"));
    ({ host, session } = await startFaultGuest("nmtb-faults"));
    before = await guestState(session);
    engine = await engineStack({
      name: STACK,
      config: { topology: writeTopology(), sshPrivateKey: { secret: host.privateKey } },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    if (engine) await disposeFaultStack(engine);
    if (session) {
      await sh(`mountpoint -q ${BUILD_ROOT} && umount ${BUILD_ROOT}; true`).catch(() => undefined);
      await session.close();
    }
    if (host) await host.stop();
    fs.rmSync(topologyDir, { recursive: true, force: true });
  }, 15 * 60_000);

  it("two `pulumi up` on the stack at once: the second is refused by the engine's lock and touches nothing", async () => {
    let refused = "";
    const first = await engine.faultDuring("up", /^netmap-prepare$/, async () => {
      const second = engine.cli(["up", "--yes", "--skip-preview"], { timeoutMs: 120_000 });
      refused = await second.then(
        () => "the second up ran",
        (error: unknown) => String(error),
      );
    });
    expect(refused).toMatch(/locked/);
    // Every command in the audit log is the first run's: its steps, each once.
    expect(first.code).toBe(0);
    await expectDeployed();
    expect(changes(await engine.up())).toEqual({});
  });

  it("the controller is killed (SIGKILL) during destroy: cancel, refresh and destroy leave the host as before", async () => {
    const run = await engine.faultDuring("destroy", /^netmap-load \(delete\)$/, async (group) => {
      process.kill(-group, "SIGKILL");
    });
    expect(run.signal).toBe("SIGKILL");
    await expect(engine.destroy()).rejects.toThrow(/locked/);
    await engine.cli(["cancel", "--yes"]);
    await engine.refresh();
    await destroyToBefore();
  });

  it("sshd is killed during the netmap build: the run names host, step and output tail; a rerun converges", async () => {
    await sh(`rm -rf ${BUILD_ROOT}`);
    const run = await engine.faultDuring("up", /^netmap-build$/, async () => {
      // Every sshd, the listener too; systemd starts the listener again (Restart=on-failure).
      await detached("pkill -KILL -x sshd");
    });
    expectNamedFailure(run, "netmap-build");
    expect(run.output).toMatch(/connection lost|ended without an exit status/);
    await reconnect(120_000);
    await rerunConverges();
  });

  it("the host reboots during the netmap build: the run names host and step; a rerun once it is back converges", async () => {
    await destroyToBefore();
    await sh(`rm -rf ${BUILD_ROOT}`);
    const run = await engine.faultDuring("up", /^netmap-build$/, async () => {
      await detached("systemctl reboot");
    });
    expectNamedFailure(run, "netmap-build");
    await reconnect(REBOOT_BOUND_MS);
    expect(await sh("cut -d' ' -f1 /proc/modules | grep -x netmap || true")).toBe("");
    await rerunConverges();
  });

  it("the build's filesystem is full, or fills during the build: an error naming the space needed, nothing installed; a rerun after freeing converges", async () => {
    await destroyToBefore();
    // The build cache on a filesystem of its own, which the fault fills to the last block.
    await sh(
      `rm -rf ${BUILD_ROOT} && mkdir -p ${BUILD_ROOT} && mount -t tmpfs -o size=300m nmtb-faults ${BUILD_ROOT}`,
    );
    // To the last block, whatever the build writes meanwhile: one big file, then the rest.
    const fill =
      `fallocate -l "$(( $(stat -f -c '%a * %S' ${BUILD_ROOT}) ))" ${BUILD_ROOT}/fill || true; ` +
      `dd if=/dev/zero of=${BUILD_ROOT}/fill.rest bs=64k 2>/dev/null || true`;
    const unfill = `rm -f ${BUILD_ROOT}/fill ${BUILD_ROOT}/fill.rest`;
    const spaceError =
      /not enough space in \/var\/cache\/netmap-testbed\/build: \d+ MiB free, a netmap build needs 256 MiB/;
    const nothingHalfInstalled = async (): Promise<void> => {
      expect(await sh(`ls ${BUILD_ROOT} | grep -v -e '\\.lock$' -e '\\.log$' -e '^fill' || true`)).toBe("");
      expect(await sh("ls -d /lib/modules/$(uname -r)/extra/netmap-testbed 2>/dev/null || true")).toBe("");
      expect(await sh("cut -d' ' -f1 /proc/modules | grep -x netmap || true")).toBe("");
    };

    // Full before the build starts: its space check refuses to begin.
    await sh(fill);
    const refused = await engine.up().then(
      () => "the build ran",
      (error: unknown) => String(error),
    );
    expect(refused).toContain('host g1: step "netmap-build" failed with exit code 1');
    expect(refused).toMatch(spaceError);
    await nothingHalfInstalled();

    // Full halfway: filled once configure has begun writing, i.e. after the space check passed.
    await sh(unfill);
    const run = await engine.faultDuring("up", /^netmap-build$/, async () => {
      await sh(
        `for i in $(seq 600); do ls ${BUILD_ROOT}/*/.nmtb-configure.out >/dev/null 2>&1 && break; sleep 0.1; done; ${fill}`,
      );
    });
    expectNamedFailure(run, "netmap-build");
    expect(run.output).toMatch(/build failed: .*; not enough space in/);
    expect(run.output).toMatch(spaceError);
    await nothingHalfInstalled();

    await sh(unfill);
    await rerunConverges();
    await engine.destroy();
    await sh(`umount ${BUILD_ROOT}`);
    expect(await guestState(session)).toEqual(before);
  });

  it("a host unreachable from the start: a clear error within the connect timeout; --continue-on-error deploys the reachable host", async () => {
    // A closed port: nothing answers there, so every attempt is refused until the timeout.
    const unreachable = `  g2:
    address: 127.0.0.1
    port: 9
    hostKey: "${host.hostKey}"
    managementInterface: eth0
`;
    await engine.stack.setConfig("netmap-testbed:topology", { value: writeTopology(unreachable) });
    const said =
      /host g2 \(root@127\.0\.0\.1:9\): unreachable: no SSH connection after \d+ attempt\(s\) in (\d+) ms \(connect timeout (\d+) ms\)/;
    const failedUp = async (options?: { continueOnError?: boolean }): Promise<number> => {
      const failed = await engine.up(options).then(
        () => "",
        (error: unknown) => String(error),
      );
      expect(failed).toMatch(said);
      const found = said.exec(failed);
      const [, elapsedMs = "", timeoutMs = ""] = found ?? [];
      expect(Number(elapsedMs)).toBeLessThanOrEqual(Number(timeoutMs));
      return Number(elapsedMs);
    };
    // A plain `up` starts no step after the first failure (the engine's rule), so the reachable
    // host may be left partway: each of its steps done or not begun.
    const plainMs = await failedUp();
    const continuedMs = await failedUp({ continueOnError: true });
    await expectDeployed();
    process.stdout.write(
      `unreachable host given up after ${plainMs} ms (plain up) and ${continuedMs} ms (--continue-on-error)\n`,
    );
    // Without the unreachable host: nothing to do on g1; g2's components (no step of them ran) go.
    await engine.stack.setConfig("netmap-testbed:topology", { value: writeTopology() });
    const removed = await engine.up();
    expect(removed.ssh).toEqual({});
    expect(Object.keys(changes(removed)).filter((kind) => kind !== "delete")).toEqual([]);
    await destroyToBefore();
  });
});
