/**
 * Benchmark: start-up of the built CLI for the commands that touch no host. Runs
 * `node dist/components/cli/main.js validate stacks/topologies/local.yaml` and `… plan …` N times
 * each, and `node -e 'require("yaml")'` (node itself plus the topology parser's one dependency:
 * the least any command can cost) N times, and prints the median wall time of each and its ratio
 * to that floor. Goal: ratio ≤ 2. Prints figures; asserts nothing.
 *
 *     node -r ts-node/register/transpile-only test/bench/cli-startup-bench.ts
 *     BENCH_ROUNDS=50 node -r ts-node/register/transpile-only test/bench/cli-startup-bench.ts
 *
 * Needs the build (npm run build). Rounds alternate between the commands so that a slower spell
 * of the machine does not fall on one of them only.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "../..");
const CLI = path.join(ROOT, "dist/components/cli/main.js");
const TOPOLOGY = "stacks/topologies/local.yaml";
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 20));
const GOAL_RATIO = 2;

interface Subject {
  readonly label: string;
  readonly args: readonly string[];
}

const BASELINE: Subject = { label: `node -e 'require("yaml")'`, args: ["-e", 'require("yaml")'] };
const SUBJECTS: readonly Subject[] = [
  BASELINE,
  { label: `validate ${TOPOLOGY}`, args: [CLI, "validate", TOPOLOGY] },
  { label: `plan ${TOPOLOGY}`, args: [CLI, "plan", TOPOLOGY] },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall time of one run in milliseconds; throws when the command fails. */
function timeOnce(subject: Subject): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, subject.args, { cwd: ROOT, encoding: "utf8" });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${subject.label} exited ${result.status}: ${result.stderr.trim()}`);
  }
  return elapsed;
}

function main(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  // One unmeasured run each: the first touches cold file caches.
  for (const subject of SUBJECTS) timeOnce(subject);
  const samples = new Map<Subject, number[]>(SUBJECTS.map((subject) => [subject, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const subject of SUBJECTS) samples.get(subject)?.push(timeOnce(subject));
  }
  const floor = median(samples.get(BASELINE) ?? []);
  process.stdout.write(`CLI start-up, median wall time of ${ROUNDS} runs each (node ${process.version})\n`);
  for (const subject of SUBJECTS) {
    const ms = median(samples.get(subject) ?? []);
    const ratio = ms / floor;
    const verdict =
      subject === BASELINE ? "(floor)" : ratio <= GOAL_RATIO ? "ok" : `over the goal ${GOAL_RATIO}`;
    process.stdout.write(
      `  ${subject.label.padEnd(44)} ${ms.toFixed(1).padStart(7)} ms   ratio ${ratio.toFixed(2)}  ${verdict}\n`,
    );
  }
}

main();
