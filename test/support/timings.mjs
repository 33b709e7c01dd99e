/**
 * How long each part of a test run takes.
 *
 * As a jest reporter (jest.config.js): records every test file's duration and result and, at the
 * end of the run, prints a table: the unit tests as one line, each integration test file on its
 * own. With $NMTB_CI_TIMINGS set (by .ci/run) it appends the records to that file instead of
 * printing, and .ci/run prints them with its own phases (set-up, engine build, typecheck + lint +
 * build) as the last thing in the log, also when tests fail or the run is interrupted:
 *
 *     node test/support/timings.mjs summary FILE
 *
 * The file has one tab-separated record a line:
 *   phase <label> <seconds>                       a timed step (tools/setup-controller.sh)
 *   mark <name> <epoch ms>                         run-start, setup-end, jest-start, run-end
 *   file <project> <path> <seconds> <passed> <failed> <ran: 1|0>
 */
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

const LABEL_WIDTH = 48;

/** @param {string} file @param {(string|number)[]} fields */
function append(file, fields) {
  appendFileSync(file, `${fields.join("\t")}\n`);
}

/** @param {number} s */
const secs = (s) => s.toFixed(1).padStart(8);

/**
 * @typedef {{project: string, file: string, seconds: number, passed: number, failed: number,
 *   ran: boolean}} FileRecord
 */

const HEADER = `${"".padEnd(LABEL_WIDTH)}${"seconds".padStart(8)}  passed/failed`;

/** @param {string} label @param {number} seconds @param {string} [rest] */
const row = (label, seconds, rest = "") =>
  `${label.padEnd(LABEL_WIDTH)}${secs(seconds)}${rest && `  ${rest}`}`;

/**
 * The unit tests as one line; the integration tests, and the real ones (npm run test:real), each
 * as one line and then each file. @param {FileRecord[]} files
 */
function fileTable(files) {
  const lines = [];
  /** @param {FileRecord[]} list @param {"seconds"|"passed"|"failed"} key */
  const total = (list, key) => list.reduce((sum, f) => sum + f[key], 0);
  /** @param {FileRecord[]} list */
  const counts = (list) => {
    const notRun = list.filter((f) => !f.ran).length;
    return `${total(list, "passed")}/${total(list, "failed")}${notRun > 0 ? `  ${notRun} file(s) did not run` : ""}`;
  };
  const unit = files.filter((f) => f.project !== "integration" && f.project !== "real");
  if (unit.length > 0)
    lines.push(row(`unit tests (${unit.length} files)`, total(unit, "seconds"), counts(unit)));
  for (const project of ["integration", "real"]) {
    const list = files.filter((f) => f.project === project);
    if (list.length === 0) continue;
    lines.push(row(`${project} tests (${list.length} files)`, total(list, "seconds"), counts(list)));
    for (const f of list) {
      lines.push(row(`  ${f.file}`, f.seconds, `${f.passed}/${f.failed}${f.ran ? "" : "  did not run"}`));
    }
  }
  return lines;
}

/** Prints the phases and the test file table from a $NMTB_CI_TIMINGS file. @param {string} file */
export function summary(file) {
  /** @type {Map<string, number>} */
  const marks = new Map();
  /** @type {[string, number][]} */
  const phases = [];
  /** @type {FileRecord[]} */
  const files = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const f = line.split("\t");
    if (f[0] === "phase" && f.length === 3) phases.push([f[1], Number(f[2])]);
    if (f[0] === "mark" && f.length === 3) marks.set(f[1], Number(f[2]));
    if (f[0] === "file" && f.length === 7) {
      files.push({
        project: f[1],
        file: f[2],
        seconds: Number(f[3]),
        passed: Number(f[4]),
        failed: Number(f[5]),
        ran: f[6] === "1",
      });
    }
  }
  const between = (from, to) =>
    marks.has(from) && marks.has(to) ? (marks.get(to) - marks.get(from)) / 1000 : undefined;
  const lines = ["", "== timings ==", HEADER];
  for (const [label, seconds] of phases) lines.push(row(label, seconds));
  const checks = between("setup-end", "jest-start") ?? between("setup-end", "run-end");
  const label = "typecheck + lint + build";
  if (checks === undefined) lines.push(`${label.padEnd(LABEL_WIDTH)}${"-".padStart(8)}  not reached`);
  else lines.push(row(label, checks, marks.has("jest-start") ? "" : "jest never started"));
  lines.push(...fileTable(files));
  const all = between("run-start", "run-end");
  if (all !== undefined) lines.push(row("total (.ci/run)", all));
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** The jest reporter. */
export default class TimingsReporter {
  /** @param {{rootDir: string}} globalConfig */
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.out = process.env.NMTB_CI_TIMINGS || undefined;
    /** @type {FileRecord[]} */
    this.files = [];
  }

  onRunStart() {
    if (this.out) append(this.out, ["mark", "jest-start", Date.now()]);
  }

  /**
   * @param {{context: {config: {displayName?: {name: string}}}}} test
   * @param {{testFilePath: string, perfStats: {start: number, end: number}, numPassingTests: number,
   *   numFailingTests: number, testExecError?: unknown}} result
   */
  onTestFileResult(test, result) {
    const record = {
      project: test.context.config.displayName?.name ?? "",
      file: path.relative(this.rootDir, result.testFilePath),
      seconds: Math.max(0, (result.perfStats.end - result.perfStats.start) / 1000),
      passed: result.numPassingTests,
      failed: result.numFailingTests,
      ran: result.testExecError === undefined || result.testExecError === null,
    };
    this.files.push(record);
    if (this.out) {
      append(this.out, [
        "file",
        record.project,
        record.file,
        record.seconds.toFixed(1),
        record.passed,
        record.failed,
        record.ran ? 1 : 0,
      ]);
    }
  }

  onRunComplete() {
    if (this.out || this.files.length === 0) return;
    process.stderr.write(`\n${[HEADER, ...fileTable(this.files)].join("\n")}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] !== "summary" || !process.argv[3]) {
    process.stderr.write("usage: node test/support/timings.mjs summary FILE\n");
    process.exit(2);
  }
  summary(process.argv[3]);
}
