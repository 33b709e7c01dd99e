/**
 * Benchmark: how the controller's side of a deployment grows with hosts and VMs. For 1, 4, 16 and
 * 64 hosts with 16 VMs each (and 1 and 64 hosts with 1 VM each), writes the topology of
 * test/bench/scale-topology.ts into a temporary directory, runs the built CLI's `validate FILE` and
 * `plan FILE` (stdout discarded) N times each, and prints per size the median wall time of each,
 * the child's peak RSS (the largest of all its runs) and the per-VM cost of `plan` (which validates
 * first) relative to the 1-host row, and the marginal cost of a VM. Goal: grows linearly or better,
 * i.e. a VM adds no more at 64 hosts than at 16 (marginal cost at 64 × 16 ≤ 1.5 × at 16 × 16); the
 * line under the table says met or missed. Prints figures; asserts nothing.
 *
 *     node -r ts-node/register/transpile-only test/bench/scale-bench.ts      (npm run bench:scale)
 *     BENCH_ROUNDS=20 node -r ts-node/register/transpile-only test/bench/scale-bench.ts
 *
 * Needs the build (npm run build). Per-VM cost is plan's wall time / VMs, compared with the 1-host
 * row of the same VMs per host (1 × 16, and 1 × 1 for the 1-VM-per-host rows); it always falls,
 * since node's and the CLI's start-up (~150 ms, paid once a run) is spread over more VMs, so it
 * is no goal. The marginal cost, (wall time − that of the 1-VM file) / (VMs − 1), the time each VM
 * adds, stays flat or falls while the cost is linear and rises with a superlinear term: the goal is
 * judged on it, between the two largest sizes, where hundreds of VMs lift it above the noise of a
 * few rounds on a busy machine (at 1 host it is 15 VMs' worth, tens of ms).
 * Peak RSS: the child runs with test/bench/report-peak-rss.js preloaded (`node -r`), which prints
 * process.resourceUsage().maxRSS as it exits; the bench removes that line from errors it shows.
 * Rounds alternate between sizes and commands so that a slower spell of the machine does not fall
 * on one of them only.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scaleTopology } from "./scale-topology";

const ROOT = path.join(__dirname, "../..");
const CLI = path.join(ROOT, "dist/components/cli/main.js");
const PRELOAD = path.join(__dirname, "report-peak-rss.js");
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const GOAL_RATIO = 1.5;
/** The preload's line (report-peak-rss.js). */
const RSS_LINE = /^nmtb-bench peak-rss-kib=(\d+)$/m;
const COMMANDS = ["validate", "plan"] as const;
type Command = (typeof COMMANDS)[number];

interface Size {
  readonly hosts: number;
  readonly vmsPerHost: number;
}

const size = (hosts: number, vmsPerHost: number): Size => ({ hosts, vmsPerHost });
/** The 1-host row of 16 VMs per host, which the per-VM costs of that series are compared with. */
const BASE = size(1, 16);
/** The 1-host row of 1 VM per host, and the start-up floor the marginal cost is measured above. */
const FLOOR = size(1, 1);
/** The two sizes the goal compares. */
const REFERENCE = size(16, 16);
const LARGEST = size(64, 16);
/** Rows in print order: 16 VMs per host, then 1 VM per host. */
const SIZES: readonly Size[] = [BASE, size(4, 16), REFERENCE, LARGEST, FLOOR, size(64, 1)];

interface Run {
  readonly ms: number;
  readonly rssKiB: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One run of the CLI; throws with the child's stderr (without the RSS line) when it fails. */
function runOnce(command: Command, file: string): Run {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ["-r", PRELOAD, CLI, command, file], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const stderr = result.stderr ?? "";
  const match = RSS_LINE.exec(stderr);
  if (result.status !== 0 || match === null) {
    const why = result.error ? result.error.message : `exited ${result.status ?? result.signal}`;
    const errors = stderr.replace(RSS_LINE, "").trim();
    throw new Error(`${command} ${file}: ${why}${errors ? `: ${errors}` : ""}`);
  }
  return { ms, rssKiB: Number(match[1]) };
}

const fixed = (value: number, digits: number, width: number): string => value.toFixed(digits).padStart(width);
const vmsOf = (s: Size): number => s.hosts * s.vmsPerHost;

function main(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "nmtb-scale-bench-"));
  try {
    const files = new Map<Size, string>();
    for (const s of SIZES) {
      const file = path.join(dir, `scale-${s.hosts}x${s.vmsPerHost}.yaml`);
      writeFileSync(file, scaleTopology(s.hosts, s.vmsPerHost));
      files.set(s, file);
    }
    const runs = new Map<Size, Record<Command, Run[]>>(SIZES.map((s) => [s, { validate: [], plan: [] }]));
    const measure = (s: Size, command: Command): Run => runOnce(command, files.get(s) ?? "");

    // One unmeasured run each: the first touches cold file caches.
    for (const s of SIZES) for (const command of COMMANDS) measure(s, command);
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of SIZES) for (const command of COMMANDS) runs.get(s)?.[command].push(measure(s, command));
    }

    const runsOf = (s: Size, command: Command): Run[] => runs.get(s)?.[command] ?? [];
    const ms = (s: Size, command: Command): number => median(runsOf(s, command).map((run) => run.ms));
    const peakMiB = (s: Size): number =>
      Math.max(...COMMANDS.flatMap((command) => runsOf(s, command).map((run) => run.rssKiB))) / 1024;
    const floorMs = ms(FLOOR, "plan");
    const perVm = (s: Size): number => ms(s, "plan") / vmsOf(s);
    const marginalMs = (s: Size): number => (ms(s, "plan") - floorMs) / (vmsOf(s) - 1);
    const marginal = (s: Size): string => (vmsOf(s) > 1 ? fixed(marginalMs(s), 3, 14) : "—".padStart(14));

    const out = (line: string): void => {
      process.stdout.write(`${line}\n`);
    };
    out(
      `Controller cost of validate and plan by size: built CLI, median wall time of ${ROUNDS} runs each, ` +
        `peak RSS the largest of all runs (node ${process.version}, ${os.cpus().length} CPUs)`,
    );
    out(
      `per-VM cost = plan ms / VMs (plan validates first), "× 1 host" over that of 1 × 16 (of 1 × 1 at 1 VM per host); ` +
        `marginal = (plan ms − ${floorMs.toFixed(1)} ms of the 1-VM file) / (VMs − 1), the time each VM adds`,
    );
    out("");
    out("hosts  VMs total  validate ms  plan ms  peak RSS MiB  per-VM ms  × 1 host  marginal ms/VM");
    for (const s of SIZES) {
      const base = s.vmsPerHost === 1 ? FLOOR : BASE;
      out(
        `${String(s.hosts).padStart(5)}  ${String(vmsOf(s)).padStart(9)}  ` +
          `${fixed(ms(s, "validate"), 1, 11)}  ${fixed(ms(s, "plan"), 1, 7)}  ` +
          `${fixed(peakMiB(s), 1, 12)}  ${fixed(perVm(s), 3, 9)}  ${fixed(perVm(s) / perVm(base), 2, 8)}  ` +
          `${marginal(s)}`,
      );
    }
    const ratio = marginalMs(LARGEST) / marginalMs(REFERENCE);
    out("");
    out(
      `goal: grows linearly or better: a VM adds no more at 64 × 16 than at 16 × 16 ` +
        `(marginal ratio ≤ ${GOAL_RATIO}): ${ratio.toFixed(2)}, ${ratio <= GOAL_RATIO ? "met" : "missed"}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
