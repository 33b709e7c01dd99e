/**
 * Benchmark: the netmap build on two identical hosts (two Debian guests, same kernel), built on
 * each host versus built once and copied through the controller (export.sh → import.sh), the way
 * NetmapKernel's build steps run in one deployment. Prints figures; asserts nothing.
 *
 *     npm run bench:build-reuse
 *     BENCH_ROUNDS=3 npm run bench:build-reuse
 *
 * The source is the stand-in tree test/fixtures/fake-netmap (netmap itself cannot be downloaded
 * here), whose build is far smaller than netmap's with its Intel drivers: the saving printed
 * here is a lower bound; the export/import figures show what the copy costs per byte.
 * Both guests share this machine's CPUs, so "each builds" runs its two builds on the same cores.
 * Needs what the integration tests need (KVM or TCG, the guest image); always stops the guests.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostSession } from "../../components/host";
import { Testbed, publicKeyOf } from "../../components/pulumi";
import { closeStepSessions, createStep, type ShareReport } from "../../components/pulumi/step-runner";
import type { RemoteStepInputs } from "../../components/pulumi/step-types";
import { parseTopology } from "../../components/topology";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import { STEP_TYPE_PREFIX } from "../support/fake-steps";
import { fakeNetmapTopology, guestHostSession, stageFakeNetmap } from "../support/fake-netmap-hosts";
import { runMockedProgram, unwrapSecrets } from "../support/pulumi-harness";

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const SKIPPED = new Set(["netmap-install", "netmap-load", "netmap-persist"]);

interface Round {
  /** Each host's step, start to result (a waiting host's includes the wait). */
  perHostMs: number[];
  /** Work done on each host: its build, or its import (plus, on the source host, the export). */
  busyMs: number[];
  totalMs: number;
  roles: string[];
  bytes?: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  let hosts: GuestHost[] = [];
  const sessions: HostSession[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await closeStepSessions().catch(() => undefined);
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)));
  };
  const abort = (): void => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);

  const sh = async (i: number, command: string, stdin?: string): Promise<string> => {
    const session = sessions[i];
    if (!session) throw new Error(`no session ${i}`);
    return (await session.runChecked("bench", ["bash", "-c", command], { stdin, timeoutMs: 600_000 })).stdout;
  };

  try {
    const bootStarted = performance.now();
    hosts = await startGuestHosts({ names: ["nmtb-bench-a", "nmtb-bench-b"], memoryMiB: 1024 });
    console.log(`guests up in ${seconds(performance.now() - bootStarted)}`);
    const sharedKey = publicKeyOf(hosts[0]?.privateKey ?? "");
    for (const [i, host] of hosts.entries()) {
      const session = guestHostSession(host);
      sessions.push(session);
      await stageFakeNetmap(session);
      // The topology gives every host the same credentials: the first guest's key opens all.
      await sh(i, "mkdir -p /root/.ssh && cat >> /root/.ssh/authorized_keys", `${sharedKey} nmtb-bench\n`);
    }

    // The real program up to the build (scripts, prepare, fetch, build), to get each host's
    // build step exactly as NetmapKernel declares it; install/load/persist are not run.
    const builds: RemoteStepInputs[] = [];
    const setupStarted = performance.now();
    await runMockedProgram(
      () => {
        new Testbed("bench", {
          topology: parseTopology(fakeNetmapTopology("bench", hosts), "bench.yaml"),
          credentials: { privateKey: pulumi.secret(hosts[0]?.privateKey ?? "") },
        });
      },
      async (args) => {
        if (!args.type.startsWith(STEP_TYPE_PREFIX)) return { id: `${args.name}-id`, state: args.inputs };
        const inputs = unwrapSecrets(args.inputs) as RemoteStepInputs;
        if (SKIPPED.has(inputs.step)) return { id: `${args.name}-id`, state: { ...inputs, result: {} } };
        if (inputs.step === "netmap-build") builds.push(inputs);
        const { id, outs } = await createStep(inputs);
        return { id, state: outs };
      },
    );
    console.log(`prepare + fetch (+ a warm-up build) in ${seconds(performance.now() - setupStarted)}`);
    if (builds.length !== 2) throw new Error(`expected 2 build steps, got ${builds.length}`);

    const clear = async (): Promise<void> => {
      await closeStepSessions(); // forgets the shared-build state, like a new deployment
      await Promise.all(hosts.map((_, i) => sh(i, "rm -rf /var/cache/netmap-testbed/build")));
    };
    const runRound = async (share: boolean): Promise<Round> => {
      await clear();
      const started = performance.now();
      const results = await Promise.all(
        builds.map(async (inputs) => {
          const t0 = performance.now();
          const { outs } = await createStep(share ? inputs : { ...inputs, share: undefined });
          return { ms: performance.now() - t0, result: outs.result };
        }),
      );
      const totalMs = performance.now() - started;
      const reports = results.map((r) => (r.result.share ?? {}) as ShareReport | Record<string, never>);
      const roles = reports.map(
        (rep, i) => rep.role ?? (results[i]?.result.built === true ? "built" : "present"),
      );
      const busyMs = results.map((r, i) => {
        const rep = reports[i];
        return rep?.role === "imported" ? (rep.importMs ?? 0) : r.ms;
      });
      // The export runs on the source host: charge it there.
      for (const rep of reports) {
        if (rep.role !== "imported" || !rep.exportMs) continue;
        const from = builds.findIndex((b) => b.connection.host === rep.from);
        if (from >= 0) busyMs[from] = (busyMs[from] ?? 0) + rep.exportMs;
      }
      const bytes = reports.map((rep) => rep.bytes).find((b) => typeof b === "number");
      return { perHostMs: results.map((r) => r.ms), busyMs, totalMs, roles, ...(bytes ? { bytes } : {}) };
    };

    const each: Round[] = [];
    const once: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      each.push(await runRound(false));
      once.push(await runRound(true));
      const e = each[r];
      const o = once[r];
      if (!e || !o) continue;
      console.log(
        `round ${r + 1}: each builds ${e.perHostMs.map(seconds).join(" / ")} (wall ${seconds(e.totalMs)}); ` +
          `build once + copy ${o.perHostMs.map(seconds).join(" / ")} [${o.roles.join(", ")}] (wall ${seconds(o.totalMs)}); ` +
          `host work ${seconds(e.busyMs.reduce((a, b) => a + b, 0))} vs ${seconds(o.busyMs.reduce((a, b) => a + b, 0))}`,
      );
    }
    const names = hosts.map((h) => h.name);
    const med = (rounds: readonly Round[], pick: (r: Round) => number): number => median(rounds.map(pick));
    const eachHost = names.map((_, i) => med(each, (r) => r.perHostMs[i] ?? 0));
    const onceHost = names.map((_, i) => med(once, (r) => r.perHostMs[i] ?? 0));
    const eachBusy = med(each, (r) => r.busyMs.reduce((a, b) => a + b, 0));
    const onceBusy = med(once, (r) => r.busyMs.reduce((a, b) => a + b, 0));
    const eachTotal = med(each, (r) => r.totalMs);
    const onceTotal = med(once, (r) => r.totalMs);
    const bytes = once.find((r) => r.bytes)?.bytes;
    const pct = (saved: number, of: number): string => `${((saved / of) * 100).toFixed(0)}%`;
    const row = (label: string, a: number, b: number): void =>
      console.log(`${label.padEnd(34)}${seconds(a).padStart(11)}   ${seconds(b).padStart(17)}`);
    console.log(`\nnetmap build step on ${names.length} identical hosts, median of ${ROUNDS} round(s):`);
    console.log(`${"".padEnd(34)}${"each builds".padStart(11)}   ${"build once + copy".padStart(17)}`);
    names.forEach((n, i) => row(`${n} (step wall)`, eachHost[i] ?? 0, onceHost[i] ?? 0));
    row("deployment wall (parallel)", eachTotal, onceTotal);
    row("host work (builds/export/import)", eachBusy, onceBusy);
    console.log(
      `saving: host work ${seconds(eachBusy - onceBusy)} (${pct(eachBusy - onceBusy, eachBusy)}), ` +
        `wall ${seconds(eachTotal - onceTotal)} (${pct(eachTotal - onceTotal, eachTotal)})` +
        (bytes ? `; archive ${(bytes / 1024).toFixed(0)} KiB` : ""),
    );
  } catch (error) {
    for (const h of hosts) console.error(`--- ${h.name} console ---\n${h.consoleTail(40)}`);
    throw error;
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
