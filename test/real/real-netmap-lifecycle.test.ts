/**
 * The real thing, for developers (not CI: netmap cannot be downloaded there): the real netmap
 * source, built natively in the lab image's root (kernel-builds/lab/native-build.sh), deployed
 * by the real Pulumi engine onto a real lab guest, which imports the build instead of compiling
 * (the controller's artifact cache, NMTB_ARTIFACT_CACHE_DIR). Then, all checked on the host with
 * the real tools: netmap.ko's vermagic, the real vale-ctl's listing of two persistent VALE ports,
 * a no-op up without SSH, drift on refresh and its repair, a module parameter change that reloads
 * netmap and re-creates the ports, and a destroy that leaves the host as it was.
 *
 * Run: `npm run test:real -- --netmap TARBALL` (tools/test-real.sh); the tarball is netmap's
 * source (e.g. `git -C netmap archive --prefix=netmap/ -o netmap.tgz 89607e14`).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { HostSession } from "../../components/host";
import { planTestbed } from "../../components/plan";
import { assertRunnerBuilt } from "../../components/pulumi";
import { buildArgs } from "../../components/pulumi/netmap-kernel";
import { parseTopology } from "../../components/topology";
import { ensureBaseImage, startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { PROJECT_ROOT, changes, engineStack, type EngineStack } from "../support/engine";
import { guestHostSession, guestShell } from "../support/fake-netmap-hosts";

const STACK = `nmtb-real-${process.pid}`;
const NETMAP = process.env.NMTB_REAL_NETMAP_TARBALL ?? process.env.NMTB_REAL_NETMAP ?? "";
/** Where the tarball goes on the guest: fetch.sh names a tarball's tree by its content, not its path. */
const GUEST_SOURCE = "/root/netmap-source.tgz";

interface RealHostState {
  modules: string;
  files: string;
  ports: string;
}

describe("real netmap through the real engine on a lab guest", () => {
  let host: GuestHost;
  let session: HostSession;
  let engine: EngineStack;
  let work: string;
  let before: RealHostState;
  const sh = (command: string): Promise<string> => guestShell(session, command);
  const valeCtl = (): Promise<string> => sh("/opt/netmap-testbed/bin/vale-ctl 2>&1; true");

  function topology(bufNum: number): string {
    return `apiVersion: netmap-testbed/v1
name: ${STACK}
netmap:
  source: { hostPath: ${GUEST_SOURCE} }
  drivers: []
  params: { buf_num: ${bufNum} }
hosts:
  lab1:
    address: ${host.address}
    port: ${host.port}
    hostKey: "${host.hostKey}"
    managementInterface: eth0
switches:
  vale0:
    host: lab1
    ports:
      p1: {}
      p2: { rings: 2 }
`;
  }

  function writeTopology(bufNum: number): string {
    const file = path.join(work, `topology-${bufNum}.yaml`);
    fs.writeFileSync(file, topology(bufNum));
    return file;
  }

  async function hostState(): Promise<RealHostState> {
    return {
      modules: await sh("cut -d' ' -f1 /proc/modules | sort"),
      files: await sh(
        "ls -d /opt/netmap-testbed/bin /etc/systemd/system/netmap-testbed* /etc/depmod.d/netmap-testbed* /lib/modules/$(uname -r)/extra/netmap-testbed 2>/dev/null; true",
      ),
      ports: await sh("ls /sys/class/net"),
    };
  }

  beforeAll(async () => {
    if (!NETMAP || !fs.existsSync(NETMAP)) {
      throw new Error("give netmap's source tarball: npm run test:real -- --netmap TARBALL");
    }
    try {
      assertRunnerBuilt();
    } catch {
      execFileSync("npm", ["run", "build"], { cwd: PROJECT_ROOT, stdio: "inherit" });
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-real-"));
    [host] = await startGuestHosts({ names: ["nmtb-real"] });
    session = guestHostSession(host);
    await guestShell(session, `base64 -d > ${GUEST_SOURCE}`, fs.readFileSync(NETMAP).toString("base64"));
    before = await hostState();

    // The lab host's build, made on the controller: same image, and exactly the fetch and build
    // arguments the program's steps give (build.sh --adopt refuses a build made from others).
    const plan = planTestbed(parseTopology(topology(4096), "real.yaml"));
    const hostBuildArgs = buildArgs(
      plan.hosts[0].netmapBuild,
      { sourceDir: "-", commit: "-" },
      { kernelRelease: host.kernelRelease },
    );
    expect(hostBuildArgs.slice(0, 4)).toEqual(["--source-dir", "-", "--commit", "-"]);
    const image = await ensureBaseImage();
    const artifacts = path.join(work, "artifacts");
    const started = Date.now();
    const native = execFileSync(
      "bash",
      [
        path.join(PROJECT_ROOT, "kernel-builds/lab/native-build.sh"),
        "netmap",
        "--disk",
        image.disk,
        "--root-cache",
        path.join(os.homedir(), ".cache/netmap-testbed/native-roots"),
        "--out",
        artifacts,
        "--",
        "--path",
        path.resolve(NETMAP),
        "--",
        ...hostBuildArgs.slice(4),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 60 * 60_000 },
    );
    process.stdout.write(`native build: ${((Date.now() - started) / 1000).toFixed(1)} s: ${native}\n`);
    process.env.NMTB_ARTIFACT_CACHE_DIR = artifacts;
    engine = await engineStack({
      name: STACK,
      config: { topology: writeTopology(4096), sshPrivateKey: { secret: host.privateKey } },
      env: { NMTB_ARTIFACT_CACHE_DIR: artifacts },
    });
  }, 90 * 60_000);

  afterAll(async () => {
    if (engine) {
      await engine.destroy().catch(() => undefined);
      await engine.dispose();
    }
    if (session) await session.close();
    if (host) await host.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 15 * 60_000);

  it(
    "up imports the native build (no compile), loads the real netmap and makes both ports",
    async () => {
      const up = await engine.up();
      expect(changes(up).create).toBeGreaterThanOrEqual(9);
      const hosts = (await engine.stack.outputs()).hosts.value as Record<string, { built: boolean }>;
      expect(hosts.lab1.built).toBe(false);
      expect(await sh("modinfo -F vermagic netmap")).toContain(host.kernelRelease);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      const listing = await valeCtl();
      expect(listing).toMatch(/^vale0:p1 bridge_idx \d+ port_idx \d+$/m);
      expect(listing).toMatch(/^vale0:p2 bridge_idx \d+ port_idx \d+$/m);
      process.stdout.write(`real vale-ctl:\n${listing}\nup: ${up.seconds.toFixed(1)} s\n`);
      const again = await engine.up();
      expect(changes(again)).toEqual({});
      expect(again.ssh).toEqual({});
    },
    60 * 60_000,
  );

  it(
    "a port deleted behind the tool's back is drift on refresh; up brings it back",
    async () => {
      await sh("/opt/netmap-testbed/bin/vale-ctl -d vale0:p1 && /opt/netmap-testbed/bin/vale-ctl -r p1");
      const refreshed = await engine.refresh();
      expect(changes(refreshed)).toEqual({ update: 1 });
      const repaired = await engine.up();
      expect(changes(repaired).delete ?? 0).toBe(0);
      expect(await valeCtl()).toMatch(/^vale0:p1 bridge_idx/m);
    },
    30 * 60_000,
  );

  it(
    "a module parameter reloads the real netmap and re-creates the ports",
    async () => {
      await engine.stack.setConfig("netmap-testbed:topology", { value: writeTopology(8192) });
      const up = await engine.up();
      expect(changes(up)).toEqual({ replace: 4 });
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("8192");
      expect(await valeCtl()).toMatch(/^vale0:p2 bridge_idx/m);
    },
    30 * 60_000,
  );

  it(
    "destroy leaves the host as it was",
    async () => {
      const destroyed = await engine.destroy();
      expect(changes(destroyed).delete).toBeGreaterThanOrEqual(9);
      expect(await hostState()).toEqual(before);
    },
    30 * 60_000,
  );
});
