/**
 * End to end: the project's real Pulumi program code (Testbed and its components, through the
 * Pulumi SDK) against a real Debian guest with its own kernel. The test monitor's `newResource`
 * runs each remote step's create command on the guest over ssh2 — the step runner the dynamic
 * provider loads — so the SDK decides the order and the host scripts run for real. Then the
 * delete commands run in reverse order and the host must be back as it was; then a redeploy
 * must reuse the cached build instead of compiling again.
 *
 * netmap's source cannot be downloaded here: the topology points at the stand-in tree
 * test/fixtures/fake-netmap (same configure/make interface, a netmap.ko and a patched `dummy`
 * driver), staged on the guest as a local source directory, as an air-gapped lab would.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostSession } from "../../components/host";
import { Testbed } from "../../components/pulumi";
import { closeStepSessions, createStep, deleteStep } from "../../components/pulumi/step-runner";
import type { RemoteStepInputs, RemoteStepOutputs } from "../../components/pulumi/step-types";
import { parseTopology } from "../../components/topology";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import {
  fakeNetmapTopology,
  guestHostSession,
  guestShell,
  stageFakeNetmap,
} from "../support/fake-netmap-hosts";
import { runMockedProgram, unwrapSecrets } from "../support/pulumi-harness";

const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

interface HostState {
  modules: string[];
  dummy0: string;
  eth0: string;
  files: string;
}

describe("deploy, destroy and redeploy a topology through the components onto a real guest", () => {
  let host: GuestHost;
  let session: HostSession;
  let before: HostState;

  const sh = (command: string): Promise<string> => guestShell(session, command);

  /** What a deploy changes and a destroy must restore. */
  async function hostState(): Promise<HostState> {
    const driver = async (ifname: string): Promise<string> =>
      (
        await sh(
          `basename "$(readlink -f /sys/class/net/${ifname}/device/driver/module 2>/dev/null || readlink -f /sys/class/net/${ifname}/device/driver)" 2>/dev/null; true`,
        )
      ).trim();
    return {
      modules: (await sh("cut -d' ' -f1 /proc/modules | sort")).trim().split("\n"),
      dummy0:
        (await sh("ethtool -i dummy0 2>/dev/null | sed -n 's/^driver: //p'; true")).trim() ||
        (await driver("dummy0")),
      eth0:
        (await sh("ethtool -i eth0 2>/dev/null | sed -n 's/^driver: //p'; true")).trim() ||
        (await driver("eth0")),
      files: await sh(
        "ls -d /opt/netmap-testbed/scripts /etc/systemd/system/netmap-testbed* /etc/depmod.d/netmap-testbed* " +
          "/lib/modules/$(uname -r)/extra/netmap-testbed 2>/dev/null; true",
      ),
    };
  }

  /** One `pulumi up` of the real program; returns the created steps in completion order. */
  async function deploy(): Promise<RemoteStepOutputs[]> {
    const created: RemoteStepOutputs[] = [];
    await runMockedProgram(
      () => {
        new Testbed("e2e", {
          topology: parseTopology(fakeNetmapTopology("e2e", [host]), "e2e.yaml"),
          credentials: { privateKey: pulumi.secret(host.privateKey) },
        });
      },
      async (args) => {
        if (args.type !== DYNAMIC) return { id: `${args.name}-id`, state: args.inputs };
        const inputs = unwrapSecrets(args.inputs) as RemoteStepInputs;
        const { id, outs } = await createStep(inputs);
        created.push(outs);
        return { id, state: outs };
      },
    );
    return created;
  }

  /** `pulumi destroy`: every delete command, newest first. */
  async function destroy(created: readonly RemoteStepOutputs[]): Promise<void> {
    for (const step of [...created].reverse()) await deleteStep(step);
  }

  function resultOf(created: readonly RemoteStepOutputs[], step: string): Record<string, unknown> {
    const found = created.find((s) => s.step === step);
    if (!found) throw new Error(`no step ${step}; ran: ${created.map((s) => s.step).join(", ")}`);
    return found.result;
  }

  beforeAll(async () => {
    [host] = await startGuestHosts({ names: ["nmtb-e2e"] });
    session = guestHostSession(host);
    await stageFakeNetmap(session);
    before = await hostState();
  }, 15 * 60_000);

  afterAll(async () => {
    await closeStepSessions();
    if (session) {
      const teardown = "/opt/netmap-testbed/scripts/current/kernel-builds/netmap/teardown.sh";
      await session
        .run("cleanup", ["bash", "-c", `test -x ${teardown} && ${teardown} --keep-cache 0; true`])
        .catch(() => undefined);
      await session.close();
    }
    if (host) await host.stop();
  }, 300_000);

  let firstDeploy: RemoteStepOutputs[] = [];

  it(
    "deploys in dependency order and leaves netmap and the patched driver loaded",
    async () => {
      expect(before.dummy0).toBe("dummy");
      expect(before.files.trim()).toBe("");
      firstDeploy = await deploy();
      const order = firstDeploy.map((s) => s.step);
      const chain = [
        "install-scripts",
        "netmap-prepare",
        "netmap-fetch",
        "netmap-build",
        "netmap-install",
        "netmap-load",
        "netmap-persist",
      ];
      expect(order).toEqual(chain);
      expect(resultOf(firstDeploy, "netmap-build").built).toBe(true);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      expect(await sh("ls /sys/module/netmap/holders")).toMatch(/dummy/);
      expect(await sh("modinfo -F filename dummy")).toMatch(/extra\/netmap-testbed/);
      expect(await sh("systemctl is-enabled netmap-testbed-modules.service || true")).toMatch(/enabled/);
    },
    20 * 60_000,
  );

  it(
    "destroys in reverse order and the host is as it was",
    async () => {
      await destroy(firstDeploy);
      expect(await hostState()).toEqual(before);
    },
    10 * 60_000,
  );

  it(
    "redeploys from the cached build, then destroys cleanly again",
    async () => {
      const again = await deploy();
      expect(resultOf(again, "netmap-build").built).toBe(false);
      expect(resultOf(again, "netmap-build").buildKey).toBe(resultOf(firstDeploy, "netmap-build").buildKey);
      expect((await sh("cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
      await destroy(again);
      expect(await hostState()).toEqual(before);
    },
    20 * 60_000,
  );
});
