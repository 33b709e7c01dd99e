/**
 * Reuse across hosts, for real: the project's Pulumi program (Testbed → NetmapKernel) deploys a
 * two-host topology onto two Debian guests with the same kernel, through the step runner the
 * dynamic provider loads. Exactly one host compiles; the other receives the build through the
 * controller (export.sh → import.sh) and must end up the same: netmap and the patched driver
 * installed and loaded. Then both are torn down to their baseline.
 *
 * netmap's source cannot be downloaded here: the stand-in tree test/fixtures/fake-netmap is
 * staged on both guests at the same path (see test/support/fake-netmap-hosts.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostSession } from "../../components/host";
import { Testbed, publicKeyOf } from "../../components/pulumi";
import { closeStepSessions, createStep, deleteStep } from "../../components/pulumi/step-runner";
import type { RemoteStepInputs, RemoteStepOutputs } from "../../components/pulumi/step-types";
import { parseTopology } from "../../components/topology";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { STEP_TYPE_PREFIX } from "../support/fake-steps";
import { fakeNetmapTopology, guestHostSession, stageFakeNetmap } from "../support/fake-netmap-hosts";
import { runMockedProgram, unwrapSecrets } from "../support/pulumi-harness";

const TEARDOWN = "/opt/netmap-testbed/scripts/current/kernel-builds/netmap/teardown.sh";

describe("identical hosts build once: one compiles, the other imports through the controller", () => {
  let hosts: GuestHost[] = [];
  const sessions: HostSession[] = [];
  let created: RemoteStepOutputs[] = [];
  let destroyed = false;

  async function sh(i: number, command: string, stdin?: string): Promise<string> {
    const session = sessions[i];
    if (!session) throw new Error(`no session ${i}`);
    const result = await session.runChecked("reuse-check", ["bash", "-c", command], {
      stdin,
      timeoutMs: 300_000,
    });
    return result.stdout;
  }

  function consoleTails(): string {
    return hosts.map((h) => `--- ${h.name} console ---\n${h.consoleTail(40)}`).join("\n");
  }

  async function withConsoleOnFailure<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      process.stderr.write(`${consoleTails()}\n`);
      throw error;
    }
  }

  beforeAll(async () => {
    hosts = await startGuestHosts({ names: ["nmtb-reuse-a", "nmtb-reuse-b"], memoryMiB: 1024 });
    for (const host of hosts) {
      const session = guestHostSession(host);
      sessions.push(session);
      await stageFakeNetmap(session);
    }
    // The topology gives every host the same credentials: the first guest's key opens all.
    const shared = publicKeyOf(hosts[0]?.privateKey ?? "");
    for (const i of hosts.keys()) {
      await sh(i, "mkdir -p /root/.ssh && cat >> /root/.ssh/authorized_keys", `${shared} nmtb-reuse\n`);
    }
    const releases = await Promise.all(hosts.map((_, i) => sh(i, "uname -r")));
    expect(releases[0]).toBe(releases[1]);
  }, 20 * 60_000);

  afterAll(async () => {
    await closeStepSessions();
    for (const session of sessions) {
      if (!destroyed) {
        await session
          .run("cleanup", ["bash", "-c", `test -x ${TEARDOWN} && ${TEARDOWN} --keep-cache 0; true`])
          .catch(() => undefined);
      }
      await session.close();
    }
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  }, 300_000);

  it(
    "deploys both hosts; exactly one build compiles, the other is imported, both load netmap",
    async () => {
      await withConsoleOnFailure(async () => {
        await runMockedProgram(
          () => {
            new Testbed("reuse", {
              topology: parseTopology(fakeNetmapTopology("reuse", hosts), "reuse.yaml"),
              credentials: { privateKey: pulumi.secret(hosts[0]?.privateKey ?? "") },
            });
          },
          async (args) => {
            if (!args.type.startsWith(STEP_TYPE_PREFIX)) return { id: `${args.name}-id`, state: args.inputs };
            const inputs = unwrapSecrets(args.inputs) as RemoteStepInputs;
            const { id, outs } = await createStep(inputs);
            created.push(outs);
            return { id, state: outs };
          },
        );
      });
      const builds = created.filter((s) => s.step === "netmap-build");
      expect(builds).toHaveLength(2);
      expect(builds.every((b) => b.share !== undefined)).toBe(true);
      const compiled = builds.filter((b) => b.result.built === true);
      const imported = builds.filter((b) => b.result.imported === true);
      expect(compiled).toHaveLength(1);
      expect(imported).toHaveLength(1);
      const [builder] = compiled;
      const [importer] = imported;
      if (!builder || !importer) throw new Error("unreachable");
      expect(importer.result.built).toBe(false);
      expect(importer.result.share).toMatchObject({ role: "imported", from: builder.connection.host });
      // Same JSON shape as a build: the same key and build directory path on both hosts.
      expect(importer.result.buildKey).toBe(builder.result.buildKey);
      expect(importer.result.buildDir).toBe(builder.result.buildDir);
      expect(importer.result.modules).toEqual(builder.result.modules);

      for (const i of [0, 1]) {
        expect((await sh(i, "cat /sys/module/netmap/parameters/buf_num")).trim()).toBe("4096");
        expect(await sh(i, "ls /sys/module/netmap/holders")).toMatch(/dummy/);
        expect(await sh(i, "modinfo -F filename dummy")).toMatch(/extra\/netmap-testbed/);
      }
      const importerIndex = hosts.findIndex(
        (h) => h.address === importer.connection.address && h.port === importer.connection.port,
      );
      expect(importerIndex).toBeGreaterThanOrEqual(0);
      const dir = String(importer.result.buildDir);
      // The build directory refers to the sources by absolute path (netmap.mak, links): same paths.
      expect(await sh(importerIndex, `grep '^SRCDIR' ${dir}/netmap.mak`)).toContain(
        "/var/cache/netmap-testbed/src/",
      );
      // install.sh's `make install-apps` found nothing to redo in the imported directory.
      expect((await sh(importerIndex, `find ${dir} -newer ${dir}/.nmtb-built -type f`)).trim()).toBe("");
      expect(await sh(importerIndex, `cat ${dir}.log`)).toMatch(/imported from another host/);
      // The boot-time rebuild gets build.sh's own arguments, not the import mode.
      expect(await sh(importerIndex, "tr '\\0' ' ' < /var/lib/netmap-testbed/netmap/build.args")).not.toMatch(
        /--adopt|--check-only/,
      );
      expect(
        (await sh(importerIndex, "ls -A /var/cache/netmap-testbed/build | grep -c import || true")).trim(),
      ).toBe("0");
    },
    30 * 60_000,
  );

  it(
    "tears both hosts down to their baseline",
    async () => {
      await withConsoleOnFailure(async () => {
        for (const step of [...created].reverse()) await deleteStep(step);
      });
      destroyed = true;
      for (const i of [0, 1]) {
        expect(await sh(i, "lsmod | grep -c '^netmap ' || true")).toMatch(/^0/);
        expect(await sh(i, "ethtool -i dummy0 | sed -n 's/^driver: //p'")).toMatch(/dummy/);
        expect(await sh(i, "modinfo -F filename dummy")).not.toMatch(/netmap-testbed/);
      }
      created = [];
    },
    15 * 60_000,
  );
});
