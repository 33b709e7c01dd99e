/**
 * The real Pulumi engine (CLI + Node.js language host from tools/pulumi-engine.sh, file backend)
 * runs this project's own program (stacks/index.ts) against a real Debian guest with its own
 * kernel: preview, up, a no-op up, drift and refresh, changes that must cascade (or must not),
 * destroy and refresh from a second checkout, and a redeploy from the build cache. Every step is
 * checked on the host, not only in the state.
 *
 * netmap's source cannot be downloaded here: the topology points at the stand-in tree
 * test/fixtures/fake-netmap (same configure/make interface, a netmap.ko and a patched `dummy`
 * driver), staged on the guest as a local source directory, and VALE ports are kept by the
 * stateful vale-ctl stand-in (test/fixtures/fake-vale-ctl).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { utils as sshUtils } from "ssh2";
import type { HostSession } from "../../components/host";
import { assertRunnerBuilt } from "../../components/pulumi";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import {
  PROJECT_ROOT,
  changes,
  engineStack,
  secondCheckout,
  stepsRun,
  type EngineStack,
} from "../support/engine";
import {
  fakeNetmapTopology,
  guestHostSession,
  guestShell,
  guestState,
  stageFakeNetmap,
  stageFakeValeCtl,
  type GuestState,
} from "../support/fake-netmap-hosts";

const STACK = `nmtb-engine-${process.pid}`;

/** The stand-in netmap on one guest, with a VALE switch of two persistent ports. */
function topology(host: GuestHost, bufNum: number): string {
  return fakeNetmapTopology(STACK, [host]).replace(
    "params: { buf_num: 4096 }",
    `params: { buf_num: ${bufNum} }`,
  ).concat(`switches:
  vale0:
    host: g1
    ports:
      p1: {}
      p2: { rings: 2 }
`);
}

/** Both ports of vale0 attached, as vale-ctl lists them (in whichever order they were made). */
function expectPorts(listing: string): void {
  expect(listing.trim().split("\n").sort()).toEqual([
    expect.stringMatching(/^vale0:p1 bridge_idx \d+ port_idx \d+$/),
    expect.stringMatching(/^vale0:p2 bridge_idx \d+ port_idx \d+$/),
  ]);
}

describe("the real Pulumi engine deploys, repairs, changes and destroys a testbed on a real guest", () => {
  let host: GuestHost;
  let session: HostSession;
  let before: GuestState;
  let engine: EngineStack;
  let topologyDir: string;
  let clone: string | undefined;
  const coldSeconds: Record<string, number> = {};

  const sh = (command: string): Promise<string> => guestShell(session, command);

  function writeTopology(bufNum: number): string {
    const file = path.join(topologyDir, `topology-${bufNum}.yaml`);
    fs.writeFileSync(file, topology(host, bufNum));
    return file;
  }

  beforeAll(async () => {
    // The engine's provider runs the compiled runners: they must be current (the program checks).
    try {
      assertRunnerBuilt();
    } catch {
      execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
    topologyDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-engine-topo-"));
    [host] = await startGuestHosts({ names: ["nmtb-engine"] });
    session = guestHostSession(host);
    await stageFakeNetmap(session);
    await stageFakeValeCtl(session);
    before = await guestState(session);
    engine = await engineStack({
      name: STACK,
      config: { topology: writeTopology(4096), sshPrivateKey: { secret: host.privateKey } },
    });
  }, 30 * 60_000);

  afterAll(async () => {
    if (engine) {
      // Whatever a failed test left: the engine's own destroy, then the stack.
      await engine.destroy().catch(() => undefined);
      await engine.dispose();
    }
    if (clone) fs.rmSync(clone, { recursive: true, force: true });
    if (session) await session.close();
    if (host) await host.stop();
    fs.rmSync(topologyDir, { recursive: true, force: true });
  }, 15 * 60_000);

  it(
    "a: preview of a fresh stack lists every resource and touches no host",
    async () => {
      const preview = await engine.preview();
      expect(changes(preview).create).toBeGreaterThanOrEqual(12);
      expect(preview.summary.same ?? 0).toBe(0);
      expect(preview.steps).toEqual([]);
      expect(await guestState(session)).toEqual(before);
    },
    10 * 60_000,
  );

  it(
    "b: up creates everything, exports outputs and keeps the private key out of the state",
    async () => {
      const up = await engine.up();
      coldSeconds.up = up.seconds;
      expect(changes(up).create).toBeGreaterThanOrEqual(12);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      expect(await sh("ls /sys/module/netmap/holders")).toMatch(/dummy/);
      expectPorts(await sh("vale-ctl; true"));
      const outputs = await engine.stack.outputs();
      const hosts = outputs.hosts.value as Record<string, { kernelRelease: string; built: boolean }>;
      expect(hosts.g1).toMatchObject({ kernelRelease: host.kernelRelease, built: true });
      const state = await engine.exportState();
      const keyBody = host.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
      for (const line of keyBody) expect(state).not.toContain(line);
      expect(state).toContain("pulumi-nodejs:dynamic/netmap-testbed:NetmapLoad");
      // The provider in the state names no path of this checkout.
      expect(state).not.toContain(PROJECT_ROOT);
    },
    30 * 60_000,
  );

  it(
    "c: a second up changes nothing and does no remote work",
    async () => {
      const again = await engine.up();
      expect(changes(again)).toEqual({});
      expect(again.ssh).toEqual({});
      process.stdout.write(`no-op up: ${again.seconds.toFixed(1)} s, SSH commands per host: 0\n`);
    },
    10 * 60_000,
  );

  it(
    "d: drift behind the tool's back shows on refresh as updates, never deletions; up repairs it",
    async () => {
      await sh("vale-ctl -d vale0:p1");
      const refreshed = await engine.refresh();
      expect(changes(refreshed)).toEqual({ update: 1 });
      expect(refreshed.output).toMatch(/ValePort.*p1|p1.*ValePort|port-p1/);

      // netmap unloaded with its ports (the real module takes its VALE ports with it).
      await sh(`rmmod dummy && rmmod netmap && rm -rf /run/nmtb-fake-vale`);
      const unloaded = await engine.refresh();
      expect(changes(unloaded).delete ?? 0).toBe(0);
      expect(changes(unloaded).update).toBeGreaterThanOrEqual(2);
      const state = await engine.exportState();
      expect(state).toContain('"netmapLoaded":false');

      const repaired = await engine.up();
      expect(changes(repaired).delete ?? 0).toBe(0);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      expectPorts(await sh("vale-ctl; true"));

      // netmap back with other parameters, as a patched driver's modprobe loads it at boot
      // before persist wrote the options: drift too, and up puts the deployed values back.
      await sh("rmmod dummy && rmmod netmap && modprobe netmap buf_num=2048 && modprobe dummy");
      const otherParams = await engine.refresh();
      expect(changes(otherParams)).toEqual({ update: 1 });
      await engine.up();
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      const clean = await engine.refresh();
      expect(changes(clean)).toEqual({});
    },
    20 * 60_000,
  );

  it(
    "e: a module parameter change reloads netmap and re-creates what stands on it, in order",
    async () => {
      await engine.stack.setConfig("netmap-testbed:topology", { value: writeTopology(8192) });
      const up = await engine.up();
      // load, persist and both ports are replaced; prepare, fetch, build and install are not.
      expect(changes(up)).toEqual({ replace: 4 });
      const steps = stepsRun(up);
      const first = (pattern: RegExp): number => steps.findIndex((step) => pattern.test(step));
      expect(first(/^vale-port:vale0:p1 \(delete\)/)).toBeGreaterThanOrEqual(0);
      expect(first(/^vale-port:vale0:p1 \(delete\)/)).toBeLessThan(first(/^netmap-load \(delete\)/));
      expect(first(/^netmap-persist \(delete\)/)).toBeLessThan(first(/^netmap-load \(delete\)/));
      expect(first(/^netmap-load \(delete\)/)).toBeLessThan(first(/^netmap-load$/));
      expect(first(/^netmap-load$/)).toBeLessThan(first(/^vale-port:vale0:p1$/));
      expect(steps.some((step) => /^netmap-(build|install|prepare|fetch)/.test(step))).toBe(false);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("8192");
      expectPorts(await sh("vale-ctl; true"));
      expect(await sh("systemctl is-enabled netmap-testbed-modules.service || true")).toMatch(/enabled/);
    },
    20 * 60_000,
  );

  it(
    "e: a new SSH key alone is stored without any work on the host",
    async () => {
      const second = sshUtils.generateKeyPairSync("ed25519");
      await sh(`echo '${second.public}' >> /root/.ssh/authorized_keys`);
      await engine.stack.setConfig("netmap-testbed:sshPrivateKey", { value: second.private, secret: true });
      const up = await engine.up();
      expect(changes(up).replace ?? 0).toBe(0);
      expect(changes(up).update).toBeGreaterThan(0);
      expect(up.ssh).toEqual({});
      const state = await engine.exportState();
      for (const line of second.private.split("\n").filter((l) => l && !l.startsWith("-----"))) {
        expect(state).not.toContain(line);
      }
    },
    10 * 60_000,
  );

  it(
    "h, f: refresh and destroy from a second checkout in another directory; the host is as before",
    async () => {
      clone = secondCheckout();
      const configFile = `Pulumi.${STACK}.yaml`;
      fs.copyFileSync(path.join(PROJECT_ROOT, "stacks", configFile), path.join(clone, "stacks", configFile));
      const elsewhere = await engineStack({
        name: STACK,
        config: {},
        workDir: clone,
        stateDir: engine.stateDir,
      });
      const refreshed = await elsewhere.refresh();
      expect(changes(refreshed)).toEqual({});
      const destroyed = await elsewhere.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(12);
      expect(await guestState(session)).toEqual(before);
    },
    20 * 60_000,
  );

  it(
    "g: up after destroy reuses the build cache on the host",
    async () => {
      await engine.stack.setConfig("netmap-testbed:topology", { value: writeTopology(4096) });
      const up = await engine.up();
      const hosts = (await engine.stack.outputs()).hosts.value as Record<string, { built: boolean }>;
      expect(hosts.g1.built).toBe(false);
      process.stdout.write(
        `up: cold ${coldSeconds.up.toFixed(1)} s, from the build cache ${up.seconds.toFixed(1)} s\n`,
      );
      const destroyed = await engine.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(12);
      expect(await guestState(session)).toEqual(before);
    },
    30 * 60_000,
  );

  it(
    "i: the engine killed during the netmap build; cancel, refresh, up converge (docs/components.md)",
    async () => {
      // Nothing to reuse on the host, so that the build really runs when the engine is killed.
      await sh("rm -rf /var/cache/netmap-testbed/build");
      const { killedAfter } = await engine.killUpDuring(/^netmap-build$/);
      expect(killedAfter).toMatch(/netmap-build$/);
      // The killed run's lock, and the steps it left half-done ("pending creates").
      await expect(engine.up()).rejects.toThrow(/locked/);
      await engine.cli(["cancel", "--yes"]);
      await engine.cli(["refresh", "--yes", "--clear-pending-creates"]);
      const up = await engine.up();
      expect(changes(up).create).toBeGreaterThan(0);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      expectPorts(await sh("vale-ctl; true"));
      expect(changes(await engine.up())).toEqual({});
      const destroyed = await engine.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(12);
      expect(await guestState(session)).toEqual(before);
    },
    30 * 60_000,
  );
});
