/**
 * Benchmark: what a deployment costs as the testbed grows from 1 to 4 to 16 hosts, with 0 and 4
 * VMs per host. For each size, stand-in hosts (test/support/stand-in-hosts.ts: netns hosts with
 * roots of their own, the stand-in kernel, init and vale-ctl; identical, so one netmap and one QEMU
 * build are shared) get the stand-in netmap, a VALE switch with two persistent ports, a pipe and
 * their VMs (the stand-in QEMU, test/support/fake-qemu-hosts.ts) through this project's program
 * on the real engine (file backend): a cold `pulumi up`, a no-op `up`, `refresh`,
 * `netmap-testbed status` and `destroy`. Per phase it prints the wall time, the SSH connections and commands per host
 * (the provider's audit log; min–max over the hosts) and the peak memory of the controller (the
 * process tree: CLI, language host, providers; or the status CLI), then each phase's cost at 16
 * hosts over that at 1 against the goal (≤ 1.5). Prints figures; asserts nothing, except that
 * each phase succeeds, a no-op `up` changes nothing and status finds no drift.
 *
 *     npm run bench:scale           (builds, then this and test/bench/scale-bench.ts)
 *     BENCH_HOSTS=1,4 BENCH_VMS=0 node -r ts-node/register/transpile-only test/bench/scale-deploy-bench.ts
 *
 * Needs root (network namespaces, overlay mounts) and the build. The hosts share this machine's
 * cores, so their own work (the hosts' CPU column) adds to the wall time as hosts are added, as it
 * would not on a rack of machines; the controller's CPU is the figure that is the project's own.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { countSsh, engineStack, PROJECT_ROOT, type EngineStack } from "../support/engine";
import { startFakeQemuStandIns, type FakeQemuStandIns } from "../support/fake-qemu-hosts";
import { createStandInHosts, standInTopology, type StandInHosts } from "../support/stand-in-hosts";
import { childPids, reapedChildrenCpuSeconds } from "./cpu-seconds";
import { sampleTree } from "./process-tree";

const HOST_COUNTS = (process.env.BENCH_HOSTS ?? "1,4,16").split(",").map(Number);
const VMS_PER_HOST = (process.env.BENCH_VMS ?? "0,4").split(",").map(Number);
const GOAL_RATIO = 1.5;
const CLI = path.join(PROJECT_ROOT, "dist", "components", "cli", "main.js");
const PHASES = ["cold up", "no-op up", "refresh", "status", "destroy"] as const;
type Phase = (typeof PHASES)[number];

interface Figures {
  readonly seconds: number;
  /** CPU the controller used (the engine's processes, or the status CLI). */
  readonly controllerCpu: number;
  /** The controller's CPU by process (sampled): engine (Go), program and provider (Node.js). */
  readonly cpuByRole: Readonly<Record<string, number>>;
  /** CPU the hosts' commands used, all hosts together (they share this machine's cores). */
  readonly hostsCpu: number;
  readonly peakRssMiB: number;
  /** Per host: [min, max] over the hosts of the testbed (hosts without any count as 0). */
  readonly connections: readonly [number, number];
  readonly commands: readonly [number, number];
  /** The engine's resource changes ("+ 16 created"), or the status command's verdict. */
  readonly outcome: string;
}

/** What a controller process is: the engine's Go binaries, a dynamic provider, or the program. */
function roleOf(command: string): string {
  if (/(^|\/)pulumi(-language-nodejs)?( |$)/.test(command)) return "engine";
  if (command.includes("dynamic-provider")) return "provider";
  return "program";
}

/** Runs a command as the bench's child, sampling its process tree. */
async function measured(
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  role: (command: string) => string = roleOf,
): Promise<{
  seconds: number;
  controllerCpu: number;
  cpuByRole: Readonly<Record<string, number>>;
  peakRssMiB: number;
  output: string;
  code: number;
}> {
  const cpuBefore = reapedChildrenCpuSeconds("self");
  const started = performance.now();
  const child = spawn(file, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
  const sampler = sampleTree(child.pid ?? 0, role);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode) => resolve(exitCode ?? 1));
  });
  const tree = sampler.stop();
  return {
    seconds: (performance.now() - started) / 1000,
    controllerCpu: reapedChildrenCpuSeconds("self") - cpuBefore,
    cpuByRole: tree.cpuByRole,
    peakRssMiB: tree.peakRssKiB / 1024,
    output,
    code,
  };
}

/**
 * CPU the hosts' sessions used while `run` ran: each sshd's reaped children, once the sessions of
 * the run are over (the controller closes its connections as it exits; bounded wait).
 */
async function withHostsCpu<T>(
  sshdPids: readonly number[],
  run: () => Promise<T>,
): Promise<T & { hostsCpu: number }> {
  const total = (): number => sshdPids.reduce((sum, pid) => sum + reapedChildrenCpuSeconds(pid), 0);
  const before = total();
  const result = await run();
  const deadline = Date.now() + 10_000;
  while (sshdPids.some((pid) => childPids(pid).length > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...result, hostsCpu: total() - before };
}

/** The run's diagnostics (the engine's "Diagnostics:" section), else the tail of its output. */
function failed(what: string, output: string): Error {
  const diagnostics = /^Diagnostics:\n[\s\S]*?(?=^Outputs:|^Resources:|(?![\s\S]))/m.exec(output)?.[0];
  return new Error(
    `${what} failed:\n${(diagnostics ?? output.trimEnd().split("\n").slice(-40).join("\n")).trimEnd()}`,
  );
}

function perHost(
  hostNames: readonly string[],
  ssh: Readonly<Record<string, { connections: number; commands: number }>>,
): Pick<Figures, "connections" | "commands"> {
  const range = (kind: "connections" | "commands"): [number, number] => {
    const counts = hostNames.map((name) => ssh[name]?.[kind] ?? 0);
    return [Math.min(...counts), Math.max(...counts)];
  };
  return { connections: range("connections"), commands: range("commands") };
}

/** The engine's own "Resources:" lines, e.g. "+ 16 created, 2 unchanged". */
function resourceSummary(output: string): string {
  const section = output.slice(output.lastIndexOf("Resources:"));
  const kinds = [
    ...section.matchAll(/^\s+(?:[-+~] |\+-)?(\d+) (created|updated|deleted|replaced|unchanged)$/gm),
  ];
  return kinds.map((m) => `${m[1]} ${m[2]}`).join(", ") || "(no summary)";
}

/** The testbed as the measurements see it: host names in the topology and their sshd pids. */
interface Testbed {
  readonly names: readonly string[];
  readonly sshdPids: readonly number[];
}

async function pulumi(engine: EngineStack, testbed: Testbed, args: readonly string[]): Promise<Figures> {
  const auditLog = engine.env.NMTB_SSH_AUDIT_LOG;
  countSsh(auditLog);
  const run = await withHostsCpu(testbed.sshdPids, () =>
    measured(
      "pulumi",
      [...args, "--yes", "--skip-preview", "--non-interactive", "--stack", engine.name],
      engine.env,
    ),
  );
  if (run.code !== 0) throw failed(`pulumi ${args.join(" ")}`, run.output);
  return { ...run, ...perHost(testbed.names, countSsh(auditLog).ssh), outcome: resourceSummary(run.output) };
}

async function status(
  engine: EngineStack,
  testbed: Testbed,
  topology: string,
  identity: string,
): Promise<Figures> {
  const auditLog = engine.env.NMTB_SSH_AUDIT_LOG;
  countSsh(auditLog);
  const run = await withHostsCpu(testbed.sshdPids, () =>
    measured(
      process.execPath,
      [CLI, "status", topology, "--identity", identity],
      {
        NMTB_SSH_AUDIT_LOG: auditLog,
      },
      () => "cli",
    ),
  );
  if (run.code !== 0) throw failed("netmap-testbed status (drift or an unreadable host)", run.output);
  return { ...run, ...perHost(testbed.names, countSsh(auditLog).ssh), outcome: "no drift" };
}

interface Size {
  readonly hosts: number;
  readonly vmsPerHost: number;
}

async function measureSize(size: Size, workDir: string): Promise<Record<Phase, Figures>> {
  const dir = fs.mkdtempSync(path.join(workDir, `hosts-${size.hosts}-vms-${size.vmsPerHost}-`));
  let hosts: StandInHosts | undefined;
  let qemu: FakeQemuStandIns | undefined;
  let engine: EngineStack | undefined;
  let deployed = false;
  try {
    hosts = await createStandInHosts(size.hosts, "sc");
    qemu = await startFakeQemuStandIns(dir, hosts.lab.gateway);
    const testbed: Testbed = {
      names: hosts.hosts.map((_, i) => `h${i + 1}`),
      sshdPids: hosts.hosts.map((host) => host.sshdPid),
    };
    const topology = path.join(dir, "topology.yaml");
    fs.writeFileSync(
      topology,
      standInTopology(`scale${size.hosts}x${size.vmsPerHost}`, hosts.hosts, {
        ports: 2,
        vms: size.vmsPerHost,
        vmSections: qemu.topology,
      }),
    );
    const identity = path.join(dir, "id_ed25519");
    fs.writeFileSync(identity, hosts.privateKey, { mode: 0o600 });
    engine = await engineStack({
      name: `bench-scale-${size.hosts}x${size.vmsPerHost}`,
      config: { topology, sshPrivateKey: { secret: hosts.privateKey } },
      // A cache of its own per size: a build left by the last size would make this one's up warm.
      env: { NMTB_ARTIFACT_CACHE_DIR: path.join(dir, "artifacts") },
    });
    deployed = true;
    const coldUp = await pulumi(engine, testbed, ["up"]);
    const noOpUp = await pulumi(engine, testbed, ["up"]);
    if (!/^\d+ unchanged$/.test(noOpUp.outcome))
      throw new Error(`a no-op up changed something: ${noOpUp.outcome}`);
    const refresh = await pulumi(engine, testbed, ["refresh"]);
    const statusRun = await status(engine, testbed, topology, identity);
    const destroy = await pulumi(engine, testbed, ["destroy"]);
    deployed = false;
    return { "cold up": coldUp, "no-op up": noOpUp, refresh, status: statusRun, destroy };
  } finally {
    if (engine) {
      if (deployed) await pulumi(engine, { names: [], sshdPids: [] }, ["destroy"]).catch(() => undefined);
      await engine.dispose();
    }
    qemu?.close();
    await hosts?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const range = ([min, max]: readonly [number, number]): string => (min === max ? `${min}` : `${min}–${max}`);
const byRole = (f: Figures): string =>
  ["engine", "program", "provider"].some((role) => f.cpuByRole[role] !== undefined)
    ? `(${["engine", "program", "provider"].map((role) => (f.cpuByRole[role] ?? 0).toFixed(1)).join("/")})`
    : "";

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const sizes: Size[] = VMS_PER_HOST.flatMap((vmsPerHost) =>
    HOST_COUNTS.map((hosts) => ({ hosts, vmsPerHost })),
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-scale-deploy-"));
  const results = new Map<Size, Record<Phase, Figures>>();
  try {
    for (const size of sizes) {
      process.stderr.write(`[bench] ${size.hosts} host(s) × ${size.vmsPerHost} VM(s)…\n`);
      results.set(size, await measureSize(size, workDir));
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  out(
    `Deployment cost by testbed size: stand-in hosts (netns, own root, stand-in kernel and init), one shared ` +
      `netmap and QEMU build, per host a VALE switch with 2 persistent ports, a pipe and its VMs (stand-in QEMU); ` +
      `real engine, file backend (node ${process.version}, ${os.cpus().length} CPUs)`,
  );
  out(
    "CPU s: the controller's (engine processes or status CLI) and the hosts' commands' (all hosts, on this " +
      "machine's cores); SSH per host: min–max over the hosts; peak RSS: the controller's process tree, sampled every 200 ms",
  );
  out("");
  out(
    "hosts  VMs/host  phase       wall s  controller CPU s (engine/program/provider)  hosts CPU s  " +
      "SSH conn/host  SSH cmds/host  peak RSS MiB  outcome",
  );
  for (const [size, phases] of results) {
    for (const phase of PHASES) {
      const f = phases[phase];
      out(
        `${String(size.hosts).padStart(5)}  ${String(size.vmsPerHost).padStart(8)}  ${phase.padEnd(10)}  ` +
          `${f.seconds.toFixed(1).padStart(6)}  ${f.controllerCpu.toFixed(1).padStart(16)} ` +
          `${byRole(f).padEnd(26)}  ` +
          `${f.hostsCpu.toFixed(1).padStart(11)}  ${range(f.connections).padStart(13)}  ` +
          `${range(f.commands).padStart(13)}  ${f.peakRssMiB.toFixed(0).padStart(12)}  ${f.outcome}`,
      );
    }
  }
  const fewest = Math.min(...HOST_COUNTS);
  const most = Math.max(...HOST_COUNTS);
  if (fewest === most) return;
  const verdict = (ratio: number): string =>
    `${ratio.toFixed(2)} × ${ratio <= GOAL_RATIO ? "met" : "missed"}`;
  out("");
  out(
    `goal: ${most} hosts cost ≤ ${GOAL_RATIO} × ${fewest} for every phase (wall time, and the controller's CPU)`,
  );
  for (const vmsPerHost of VMS_PER_HOST) {
    const at = (hosts: number): Record<Phase, Figures> | undefined =>
      [...results].find(([size]) => size.hosts === hosts && size.vmsPerHost === vmsPerHost)?.[1];
    const small = at(fewest);
    const large = at(most);
    if (!small || !large) continue;
    for (const phase of PHASES) {
      const wall = large[phase].seconds / small[phase].seconds;
      const cpu = large[phase].controllerCpu / small[phase].controllerCpu;
      out(
        `  ${String(vmsPerHost).padStart(2)} VMs/host  ${phase.padEnd(10)} wall ${verdict(wall)}; ` +
          `controller CPU ${verdict(cpu)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
