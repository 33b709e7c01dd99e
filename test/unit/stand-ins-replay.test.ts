/**
 * The stand-ins replay the real thing. Each stand-in (test/fixtures/fake-*) is run and what it
 * prints is checked against what the real program printed (test/fixtures/recorded/, and the real
 * vale-ctl/pkt-gen recordings in components/parsers/__fixtures__/), and the project's readers of
 * that output (the parsers, and the patterns kernel-builds/netmap/build.sh and
 * kernel-builds/qemu/build.sh use) are run on both: a stand-in that drifts from the real netmap or
 * QEMU (a renamed field, another separator, a missing unit) fails here.
 *
 * Where the stand-in can be driven into the recorded situation (vale-ctl, configure, QEMU's help),
 * its output must equal the recording. Where the values cannot match (pkt-gen's rates and
 * timestamps), every line it prints must have the shape of a recorded line: the same words,
 * separators and spacing, numbers in the same form (integer, or as many decimals), a rate's unit
 * prefix free (pkt-gen scales it: pps, Kpps, Mpps).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parsePktGen, parsePktGenRateLine, type PktGenResult } from "../../components/parsers/pkt-gen";
import {
  parseValeCtlError,
  parseValeCtlGeometry,
  parseValeCtlList,
  parseValeCtlPortInfo,
} from "../../components/parsers/vale-ctl";
import { fixture, readTranscript, type TranscriptCall } from "../support/parser-transcripts";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures");
const RECORDED = path.join(FIXTURES, "recorded");
const FAKE_NETMAP = path.join(FIXTURES, "fake-netmap");
const FAKE_VALE_CTL = path.join(FIXTURES, "fake-vale-ctl/vale-ctl");
const FAKE_PKT_GEN = path.join(FIXTURES, "fake-pkt-gen/pkt-gen");
const FAKE_QEMU = path.join(FIXTURES, "fake-qemu");

const recorded = (name: string): string => fs.readFileSync(path.join(RECORDED, name), "utf8");
/** The lines of a program's output (no empty last element for the final newline). */
function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stand-ins-replay-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = (name: string): string => {
  const dir = path.join(tmp, `${name}-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

// ---------------------------------------------------------------------------------------------
// Line shapes

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * A regular expression for the lines shaped like `line`: numbers keep their form (integer, or
 * N decimals; a number right after "[" may be space-padded, like printf's %4d), hex stays hex, the
 * unit prefix before pps/pkts/bps is free, and each of `wildcards` (a port name) may be any
 * non-blank word. Everything else must be the same.
 */
function shapeOf(line: string, wildcards: readonly string[] = []): RegExp {
  const alternatives = [
    ...wildcards
      .filter((w) => w.length > 0)
      .sort((a, b) => b.length - a.length)
      .map(escapeRe),
    "0x[0-9a-fA-F]+",
    "\\d+(?:\\.\\d+)?(?: [KMGT]?(?=(?:pps|pkts|bps)\\b))?",
  ];
  const token = new RegExp(alternatives.join("|"), "g");
  let src = "";
  let last = 0;
  for (const m of line.matchAll(token)) {
    const t = m[0];
    const at = m.index ?? 0;
    src += escapeRe(line.slice(last, at));
    if (wildcards.includes(t)) src += "\\S+";
    else if (t.startsWith("0x")) src += "0x[0-9a-fA-F]+";
    else {
      const num = /^(\d+)(?:\.(\d+))?( [KMGT]?)?$/.exec(t);
      if (!num) throw new Error(`unexpected token ${t}`);
      if (src.endsWith("\\[")) src += " *";
      src += "\\d+";
      if (num[2] !== undefined) src += `\\.\\d{${num[2].length}}`;
      if (num[3] !== undefined) src += " [KMGT]?";
    }
    last = at + t.length;
  }
  src += escapeRe(line.slice(last));
  return new RegExp(`^${src}$`);
}

class Shapes {
  readonly #byKey = new Map<string, RegExp>();
  add(lines: readonly string[], wildcards: readonly string[] = []): this {
    for (const line of lines) {
      const re = shapeOf(line, wildcards);
      this.#byKey.set(re.source, re);
    }
    return this;
  }
  /** The shape a line has (its regex source), or null when no recorded line had it. */
  of(line: string): string | null {
    for (const [key, re] of this.#byKey) if (re.test(line)) return key;
    return null;
  }
  unmatched(lines: readonly string[]): string[] {
    return lines.filter((l) => this.of(l) === null);
  }
}

describe("line shapes (the checker itself)", () => {
  const rate =
    "678.099541 main_thread [2781] 1.914 Mpps (1.919 Mpkts 918.491 Mbps in 1002850 usec) 512.00 avg_batch 512 min_space";
  const shape = shapeOf(rate);
  it("accepts other values and unit prefixes", () => {
    expect(shape.test(rate)).toBe(true);
    expect(
      shape.test(
        "066.961230 main_thread [2781] 0.000 pps (0.000 pkts 0.000 bps in 1 usec) 0.00 avg_batch 0 min_space",
      ),
    ).toBe(true);
  });
  it.each([
    ["a renamed field", rate.replace("avg_batch", "avg_burst")],
    ["another separator", rate.replace(" in ", ", in ")],
    ["a missing unit", rate.replace(" usec)", ")")],
    ["another unit", rate.replace("Mpps", "Mbps")],
    ["another number form", rate.replace("512.00 avg_batch", "512 avg_batch")],
    ["other spacing", rate.replace(" main_thread", "  main_thread")],
  ])("rejects %s", (_what, drifted) => {
    expect(shape.test(drifted)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// vale-ctl

describe("vale-ctl stand-in replays the real vale-ctl", () => {
  function fakeValeCtl(unloaded = false): (args: string[]) => TranscriptCall {
    const dir = freshDir("vale");
    const env = {
      ...process.env,
      FAKE_VALE_STATE: path.join(dir, "state"),
      FAKE_VALE_SYSFS: path.join(dir, "sys"),
    };
    if (unloaded) {
      fs.mkdirSync(env.FAKE_VALE_STATE, { recursive: true });
      fs.writeFileSync(path.join(env.FAKE_VALE_STATE, "unloaded"), "");
    }
    return (args) => {
      const r = spawnSync(FAKE_VALE_CTL, args, { env, encoding: "utf8" });
      return {
        command: ["vale-ctl", ...args].join(" "),
        stdout: r.stdout,
        stderr: r.stderr,
        rc: r.status ?? -1,
      };
    };
  }
  const argsOf = (command: string): string[] => command.split(" ").slice(1);
  /** glibc's getopt names the program as invoked (argv[0]): a path for the script. */
  const sameProgramName = (stderr: string): string =>
    stderr.replace(/^\S*vale-ctl: (invalid option|option requires an argument)/m, "vale-ctl: $1");

  /** What the parsers read from one call. */
  function parsed(call: TranscriptCall): unknown {
    const args = argsOf(call.command);
    const error = parseValeCtlError(call.stderr);
    if (error) return { error };
    if (args.length === 0) return parseValeCtlList(call.stdout, call.stderr, call.rc);
    if (args[0] === "-g") return parseValeCtlGeometry(call.stdout);
    if (args[0] === "-l") return parseValeCtlPortInfo(call.stdout);
    return { stdout: call.stdout };
  }

  it.each<[string, string[][]]>([
    // file, calls that bring the stand-in to the state the capture started from
    ["vale-ctl-lifecycle.txt", []],
    ["vale-ctl-after-g-on-attached-port.txt", []],
    // the capture starts with v0 and v1 created and attached to vale0 (its first listing)
    [
      "vale-ctl-g.txt",
      [
        ["-n", "v0"],
        ["-n", "v1"],
        ["-a", "vale0:v0"],
        ["-a", "vale0:v1"],
      ],
    ],
  ])("%s: every call prints what the real one printed, and the parsers read the same", (file, setup) => {
    const run = fakeValeCtl();
    for (const args of setup) expect(run(args).rc).toBe(0);
    const calls = readTranscript(file).filter(
      (c) => c.command === "vale-ctl" || c.command.startsWith("vale-ctl "),
    );
    expect(calls.length).toBeGreaterThan(5);
    for (const real of calls) {
      const fake = run(argsOf(real.command));
      expect(fake).toEqual(real);
      expect(parsed(fake)).toEqual(parsed(real));
    }
  });

  it("without the netmap module: /dev/netmap errors, usage and bad options as recorded (vale-ctl-no-module.txt)", () => {
    const run = fakeValeCtl(true);
    const calls = readTranscript(path.join(RECORDED, "vale-ctl-no-module.txt"));
    expect(calls).toHaveLength(10);
    for (const real of calls) {
      const fake = run(argsOf(real.command));
      expect({ ...fake, stderr: sameProgramName(fake.stderr) }).toEqual({
        ...real,
        stderr: sameProgramName(real.stderr),
      });
      expect(parsed({ ...fake, stderr: sameProgramName(fake.stderr) })).toEqual(
        parsed({ ...real, stderr: sameProgramName(real.stderr) }),
      );
    }
  });

  it("situations the recordings do not cover (another switch, re-create, busy delete) keep the real line shapes", () => {
    const shapes = new Shapes();
    for (const file of [
      "vale-ctl-lifecycle.txt",
      "vale-ctl-g.txt",
      "vale-ctl-after-g-on-attached-port.txt",
      path.join(RECORDED, "vale-ctl-no-module.txt"),
    ]) {
      for (const c of readTranscript(file)) shapes.add([...linesOf(c.stdout), ...linesOf(c.stderr)]);
    }
    const run = fakeValeCtl();
    const out: TranscriptCall[] = [
      run(["-n", "v0"]),
      run(["-n", "v1"]),
      run(["-a", "vale1:v0"]),
      run(["-a", "vale0:v1"]),
      run(["-l", "vale1:v0"]),
      run(["-l", "vale0:v1"]),
      run([]),
      run(["-n", "v0"]),
      run(["-d", "vale0:v0"]),
      run(["-r", "v1"]),
    ];
    const printed = out.flatMap((c) => [...linesOf(c.stdout), ...linesOf(c.stderr)]);
    expect(printed).toContain("vale1:v0 bridge_idx 0 port_idx 0");
    expect(printed).toContain("vale0:v1 bridge_idx 1 port_idx 0");
    expect(shapes.unmatched(printed)).toEqual([]);
    expect(parseValeCtlList(out[6].stdout, out[6].stderr, out[6].rc).ports).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------
// pkt-gen

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

interface StartedPktGen {
  readonly child: ReturnType<typeof spawn>;
  readonly done: Promise<Run>;
  /**
   * Resolves at its first periodic report: the stand-in sets its Ctrl-C handler just before its
   * report loop, so a SIGINT sent earlier (a busy machine starts it slowly) would not be handled.
   */
  readonly reporting: Promise<void>;
}

function startPktGen(dir: string, args: string[]): StartedPktGen {
  const child = spawn(path.join(dir, "pkt-gen"), args, { cwd: dir });
  let stdout = "";
  let stderr = "";
  let onReport: () => void = () => undefined;
  const reporting = new Promise<void>((resolve, reject) => {
    onReport = resolve;
    const bound = setTimeout(
      () => reject(new Error(`no periodic report within 20 s; stderr:\n${stderr}`)),
      20_000,
    );
    bound.unref();
  });
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (/ main_thread \[/.test(stderr)) onReport();
  });
  const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ stdout, stderr, code })));
  return { child, done, reporting };
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The real pkt-gen outputs: each with its port, stderr and stdout as one interleaved text. */
const REAL_PKT_GEN = [
  "pkt-gen-vale-pin-1.tx.txt",
  "pkt-gen-vale-pin-1.rx.txt",
  "pkt-gen-pipe-pin-1.tx.txt",
  "pkt-gen-pipe-pin-1.rx.txt",
  "pkt-gen-rx-from-ptnet-guest.txt",
].map((name) => {
  // The ptnet sample has one editorial line where idle lines were cut: not pkt-gen output.
  const lines = linesOf(fixture(name)).filter((l) => !/^\[\.\.\. .* \.\.\.\]$/.test(l));
  const port = /interface is (\S+)$/m.exec(lines.join("\n"))?.[1] ?? "";
  return { name, lines, port, text: lines.join("\n") + "\n" };
});
const REAL_PKT_GEN_NO_MODULE = readTranscript(path.join(RECORDED, "pkt-gen-no-module.txt"));

function pktGenShapes(): Shapes {
  const shapes = new Shapes();
  for (const r of REAL_PKT_GEN) shapes.add(r.lines, [r.port]);
  for (const c of REAL_PKT_GEN_NO_MODULE) {
    shapes.add([...linesOf(c.stdout), ...linesOf(c.stderr)], ["vale0:a", "vale0:b"]);
  }
  return shapes;
}

/** What kind of result the parser gives, and the relations between its numbers that hold for pkt-gen. */
function kindOf(r: PktGenResult): Record<string, unknown> {
  const s = r.summary;
  return {
    role: r.role,
    periodic: r.periodic.length > 0,
    samplesWellFormed: r.periodic.every(
      (p) => p.usec > 0 && [p.pps, p.pkts, p.bps, p.avgBatch, p.minSpace].every(Number.isFinite),
    ),
    summary: s !== null,
    summaryFields: s ? [s.mpps, s.mbps, s.rawMbps, s.avgBatch].every((v) => v !== undefined) : false,
    bytesArePacketsTimesSize: s ? s.bytes === s.packets * s.frameSize : false,
    averageBatchIsPacketsPerEvent: s ? Math.abs((s.avgBatch ?? 0) - s.packets / s.events) < 0.01 : false,
    speedIsPacketsPerSecond: s
      ? Math.abs((s.mpps ?? 0) * 1e6 - s.packets / s.seconds) / (s.mpps ?? 1) / 1e6 < 0.01
      : false,
    bandwidthIsSpeedTimesBits: s
      ? Math.abs((s.mbps ?? 0) - (s.mpps ?? 0) * s.frameSize * 8) / (s.mbps ?? 1) < 0.01
      : false,
    receivedNothing: r.receivedNothing,
    sentNothing: r.sentNothing,
    complete: r.complete,
  };
}

describe("pkt-gen stand-in prints the real pkt-gen's lines", () => {
  const shapes = pktGenShapes();
  let dir: string;
  let tx: Run;
  let rx: Run;

  beforeAll(async () => {
    dir = freshDir("pkt-gen");
    fs.copyFileSync(FAKE_PKT_GEN, path.join(dir, "pkt-gen"));
    // As the runner does: a receiver that stops by itself (-W), a sender stopped with Ctrl-C.
    const r = startPktGen(dir, ["-i", "vale0:b", "-f", "rx", "-l", "60", "-W", "-T", "200"]);
    await r.reporting;
    const t = startPktGen(dir, ["-i", "vale0:a", "-f", "tx", "-l", "60", "-T", "200"]);
    await t.reporting;
    await sleep(2000);
    t.child.kill("SIGINT");
    [tx, rx] = await Promise.all([t.done, r.done]);
  }, 30_000);

  it("exits 0 and every line it prints has the shape of a line the real pkt-gen printed", () => {
    expect(tx.code).toBe(0);
    expect(rx.code).toBe(0);
    for (const run of [tx, rx]) {
      expect(shapes.unmatched([...linesOf(run.stderr), ...linesOf(run.stdout)])).toEqual([]);
    }
  });

  it.each([
    ["tx", "pkt-gen-vale-pin-1.tx.txt"],
    ["rx", "pkt-gen-vale-pin-1.rx.txt"],
  ])("%s: start-up lines and final report in the real order (%s)", (role, name) => {
    const run = role === "tx" ? tx : rx;
    const real = REAL_PKT_GEN.find((r) => r.name === name)!;
    const firstRate = (lines: string[]): number => lines.findIndex((l) => / main_thread \[/.test(l));
    const realHead = real.lines.slice(0, firstRate(real.lines));
    const fakeErr = linesOf(run.stderr);
    const fakeHead = fakeErr.slice(0, firstRate(fakeErr));
    expect(fakeHead.map((l) => shapes.of(l))).toEqual(realHead.map((l) => shapes.of(l)));
    const report = (lines: string[]): string[] =>
      lines.slice(lines.findIndex((l) => /^(Sending on|Receiving from) /.test(l)));
    expect(linesOf(run.stdout).map((l) => shapes.of(l))).toEqual(report(real.lines).map((l) => shapes.of(l)));
  });

  it("after Ctrl-C the sender prints what the real one printed after it (sigint_h first, then flush and rate lines)", () => {
    const after = (lines: string[]): string[] => {
      const at = lines.findIndex((l) => / sigint_h \[/.test(l));
      return at < 0
        ? []
        : lines
            .slice(at)
            .filter((l) => !/^(Sending on|Receiving from|Sent|Speed:|\d+\.\d+\.\d+\.\d+ ->)/.test(l));
    };
    const fake = after(linesOf(tx.stderr));
    expect(fake.length).toBeGreaterThan(1);
    const realShapes = new Set(
      REAL_PKT_GEN.filter((r) => r.name.includes(".tx.")).flatMap((r) =>
        after(r.lines).map((l) => shapes.of(l)),
      ),
    );
    expect(shapes.of(fake[0])).toBe(
      shapes.of("732.506322 sigint_h [574] received control-C on thread 0x7fa3606c5740"),
    );
    for (const l of fake) expect(realShapes.has(shapes.of(l))).toBe(true);
  });

  it("the parser reads the same kind of result from the stand-in as from the real recordings", () => {
    const realTx = parsePktGen(REAL_PKT_GEN[0].text);
    const realRx = parsePktGen(REAL_PKT_GEN[1].text);
    const fakeTx = parsePktGen(tx.stderr + tx.stdout);
    const fakeRx = parsePktGen(rx.stderr + rx.stdout);
    expect(kindOf(fakeTx)).toEqual(kindOf(realTx));
    expect(kindOf(fakeRx)).toEqual(kindOf(realRx));
    expect([fakeTx.interface, fakeRx.interface]).toEqual(["vale0:a", "vale0:b"]);
    expect([fakeTx.interrupted, fakeRx.interrupted]).toEqual([realTx.interrupted, realRx.interrupted]);
    expect(kindOf(fakeTx)).toMatchObject({ bytesArePacketsTimesSize: true, speedIsPacketsPerSecond: true });
    for (const real of REAL_PKT_GEN) {
      expect(kindOf(parsePktGen(real.text))).toMatchObject({
        summary: true,
        bytesArePacketsTimesSize: true,
        averageBatchIsPacketsPerEvent: true,
        speedIsPacketsPerSecond: true,
        bandwidthIsSpeedTimesBits: true,
      });
    }
    // Each periodic line on its own, as the runner reads them while they stream.
    for (const l of linesOf(tx.stderr).filter((x) => / main_thread \[/.test(x))) {
      expect(parsePktGenRateLine(l)).not.toBeNull();
    }
  });

  it("a receiver that saw nothing says so, in pkt-gen's words", async () => {
    const d = freshDir("pkt-gen-nothing");
    fs.copyFileSync(FAKE_PKT_GEN, path.join(d, "pkt-gen"));
    const r = startPktGen(d, ["-i", "vale0:b", "-f", "rx", "-T", "200"]);
    await r.reporting;
    r.child.kill("SIGINT");
    const run = await r.done;
    expect(run.code).toBe(0);
    expect(shapes.unmatched(linesOf(run.stderr))).toEqual([]);
    // Not in a transcript; documented with the guest captures (test/fixtures/recorded/README.md).
    expect(linesOf(run.stdout)).toEqual([
      "Receiving from vale0:b: 1 queues, 1 threads and 1 cpus.",
      "Received nothing.",
    ]);
    expect(parsePktGen(run.stderr + run.stdout)).toMatchObject({
      receivedNothing: true,
      complete: true,
      summary: null,
    });
  }, 15_000);

  it.each([
    ["-f tx", ["-f", "tx"], "pkt-gen -f tx"],
    ["-i vale0:a -f bogus", ["-i", "vale0:a", "-f", "bogus"], "pkt-gen -i vale0:a -f bogus"],
  ])("a bad command line (%s): the real error line, usage on stderr, exit 255", (_what, args, command) => {
    const d = freshDir("pkt-gen-usage");
    fs.copyFileSync(FAKE_PKT_GEN, path.join(d, "pkt-gen"));
    const r = spawnSync(path.join(d, "pkt-gen"), args, { encoding: "utf8" });
    const real = REAL_PKT_GEN_NO_MODULE.find((c) => c.command === command)!;
    expect(r.status).toBe(real.rc);
    expect(r.stdout).toBe(real.stdout);
    const fake = linesOf(r.stderr);
    expect(shapes.unmatched(fake)).toEqual([]);
    // The real one's error line, then the start of its usage (the stand-in prints the first lines).
    const errorLine = linesOf(real.stderr).find((l) => /missing ifname|unrecognised function/.test(l))!;
    expect(fake.filter((l) => shapes.of(l) === shapes.of(errorLine))).toHaveLength(1);
    const usage = linesOf(real.stderr).slice(linesOf(real.stderr).indexOf("Usage:"));
    expect(fake.slice(fake.indexOf("Usage:"))).toEqual(usage.slice(0, fake.length - fake.indexOf("Usage:")));
  });
});

// ---------------------------------------------------------------------------------------------
// netmap's configure, and what build.sh reads from it

/** A kernel build directory like Debian's: a symlink (…/build) to the headers, 6.1.176. */
function fakeKernel(): { kdir: string; kreal: string } {
  const dir = freshDir("kernel");
  const kreal = path.join(fs.realpathSync(dir), "linux-headers-6.1.0-50-amd64");
  fs.mkdirSync(path.join(kreal, "include/generated/uapi/linux"), { recursive: true });
  fs.writeFileSync(path.join(kreal, ".config"), "CONFIG_DUMMY=m\n");
  fs.writeFileSync(
    path.join(kreal, "include/generated/uapi/linux/version.h"),
    [
      "#define LINUX_VERSION_CODE 393648",
      "#define KERNEL_VERSION(a,b,c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))",
      "#define LINUX_VERSION_MAJOR 6",
      "#define LINUX_VERSION_PATCHLEVEL 1",
      "#define LINUX_VERSION_SUBLEVEL 176",
      "",
    ].join("\n"),
  );
  const kdir = path.join(fs.realpathSync(dir), "build");
  fs.symlinkSync(kreal, kdir);
  return { kdir, kreal };
}

/** Runs a configure in a fresh build directory; stdout and stderr as one text, like the recordings. */
function configure(script: string, args: string[]): { out: string; code: number | null; buildDir: string } {
  const buildDir = freshDir("build");
  const r = spawnSync("bash", ["-c", 'exec "$0" "$@" 2>&1', script, ...args], {
    cwd: buildDir,
    encoding: "utf8",
  });
  return { out: r.stdout, code: r.status, buildDir };
}

const REAL_KDIR = "/lib/modules/6.1.0-50-amd64/build";
const REAL_KREAL = "/usr/src/linux-headers-6.1.0-50-amd64";
const hasPerl = spawnSync("sh", ["-c", "command -v perl"]).status === 0;
function normalise(text: string, replacements: Array<[string, string]>): string[] {
  let t = text;
  for (const [from, to] of replacements) t = t.split(from).join(to);
  // netmap's configure decodes the version with perl when it has it (scripts/vers -C).
  if (!hasPerl) t = t.replace(/^(\*\*\* )?(linux version {15}[0-9a-f]+ ) \[[0-9.]+\]$/gm, "$1$2");
  return linesOf(t);
}
const APPS = /^((?:\*\*\* )?apps {24})((?:\S+ )*)$/;
/** The lines equal, but the apps line: the stand-in builds fewer apps, in the real order, same format. */
function expectSameReport(fake: string[], real: string[]): void {
  expect(fake.map((l) => (APPS.test(l) ? "<apps>" : l))).toEqual(
    real.map((l) => (APPS.test(l) ? "<apps>" : l)),
  );
  const realApps = real.map((l) => APPS.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const fakeApps = fake.map((l) => APPS.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  expect(fakeApps).toHaveLength(realApps.length);
  fakeApps.forEach((m, i) => {
    const mine = m[2].split(" ").filter(Boolean);
    const theirs = realApps[i][2].split(" ").filter(Boolean);
    expect(m[1]).toBe(realApps[i][1]);
    if (theirs.length > 0) expect(theirs.filter((a) => mine.includes(a))).toEqual(mine);
  });
}

/** Runs a piece of build.sh (the lines from `from` to `to`) with config_out set; prints what it sets. */
function buildShSnippet(file: string, from: RegExp, to: RegExp): string {
  const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const start = lines.findIndex((l) => from.test(l));
  const end = lines.findIndex((l, i) => i >= start && to.test(l));
  if (start < 0 || end < 0)
    throw new Error(`${file} no longer has the lines ${from} … ${to}: update this test`);
  return lines.slice(start, end + 1).join("\n");
}
/** The drivers kernel-builds/netmap/build.sh reads from configure's report (its own lines). */
function driversBuildShReads(configOut: string): string[] {
  const snippet = buildShSnippet(
    "kernel-builds/netmap/build.sh",
    /^report_line="\$\(grep -E '\^native drivers/,
    /^mapfile -t reported_sorted /,
  );
  const file = path.join(freshDir("config-out"), "configure.out");
  fs.writeFileSync(file, configOut);
  const r = spawnSync(
    "bash",
    [
      "-c",
      `set -euo pipefail\nfail() { echo "FAIL: $*" >&2; exit 1; }\nconfig_out="$1"\n${snippet}\nfor d in "\${reported_sorted[@]}"; do echo "$d"; done`,
      "bash",
      file,
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return linesOf(r.stdout);
}
/** build.sh's pattern for the configure warnings that would silently change the build. */
function buildShWarningPattern(): string {
  const m = /grep -qE '([^']*unknown[^']*)' "\$config_out"/.exec(
    fs.readFileSync(path.join(ROOT, "kernel-builds/netmap/build.sh"), "utf8"),
  );
  if (!m)
    throw new Error("kernel-builds/netmap/build.sh no longer greps configure's warnings: update this test");
  return m[1];
}
/** A netmap.mak variable as build.sh reads it (its sed expression, then `read -r -a`). */
function makVariableBuildShReads(mak: string, variable: "S_DRIVERS" | "APPS_LIST"): string[] {
  const text = fs.readFileSync(path.join(ROOT, "kernel-builds/netmap/build.sh"), "utf8");
  const m = new RegExp(`sed -n '(s/\\^${variable}[^']*)'`).exec(text);
  if (!m)
    throw new Error(
      `kernel-builds/netmap/build.sh no longer reads ${variable} from netmap.mak: update this test`,
    );
  const r = spawnSync(
    "bash",
    [
      "-c",
      'read -r -a v <<<"$(sed -n "$1" "$2" | head -n1)"; for x in "${v[@]}"; do echo "$x"; done',
      "bash",
      m[1],
      mak,
    ],
    { encoding: "utf8" },
  );
  return linesOf(r.stdout);
}

describe("netmap configure stand-in replays the real configure", () => {
  const script = path.join(FAKE_NETMAP, "configure");

  it("a successful run prints the real NOTE boxes and report, line for line (netmap-configure.txt)", () => {
    const { kdir, kreal } = fakeKernel();
    // The recorded run: configure --kernel-dir=… --fail-on-driver-errors --prefix=/usr/local --no-drivers.
    // (--kernel-sources only pins what both default to, so the host's /lib/modules does not matter.)
    const run = configure(script, [
      `--kernel-dir=${kdir}`,
      `--kernel-sources=${kdir}`,
      "--fail-on-driver-errors",
      "--prefix=/usr/local",
      "--no-drivers",
    ]);
    expect(run.code).toBe(0);
    const fake = normalise(run.out, [
      [kdir, "<KDIR>"],
      [kreal, "<KREAL>"],
    ]);
    const real = normalise(recorded("netmap-configure.txt"), [
      [REAL_KDIR, "<KDIR>"],
      [REAL_KREAL, "<KREAL>"],
    ]);
    expectSameReport(fake, real);
    expect(fake).toContain("subsystems                  null ptnetmap generic monitor pipe vale ");
  });

  it("unknown driver, application, subsystem and option warnings and the error box equal the real ones (netmap-configure-warnings.txt)", () => {
    const args = [
      "--kernel-dir=/nonexistent",
      "--kernel-sources=/nonexistent",
      "--fail-on-driver-errors",
      "--prefix=/usr/local",
      "--drivers=nosuch.c",
      "--apps=nosuch",
      "--enable-bogus",
      "--frobnicate",
    ];
    const run = configure(script, args);
    expect(run.code).toBe(1);
    expect(normalise(run.out, [])).toEqual(normalise(recorded("netmap-configure-warnings.txt"), []));
  });

  it("a driver that cannot be built fails like the real one, with the report in the error box (netmap-configure-driver-error.txt)", () => {
    const { kdir, kreal } = fakeKernel();
    // The stand-in's only buildable driver, with its sources removed: the real run's veth.c had none.
    const tree = path.join(freshDir("tree"), "fake-netmap");
    fs.cpSync(FAKE_NETMAP, tree, { recursive: true });
    fs.rmSync(path.join(tree, "LINUX/drivers/dummy.c"));
    const run = configure(path.join(tree, "configure"), [
      `--kernel-dir=${kdir}`,
      `--kernel-sources=${kdir}`,
      "--fail-on-driver-errors",
      "--prefix=/usr/local",
      "--drivers=dummy.c",
      "--select-version=dummy.c:1.0",
    ]);
    expect(run.code).toBe(1);
    const fake = normalise(run.out, [
      [kdir, "<KDIR>"],
      [kreal, "<KREAL>"],
      ["dummy.c", "<DRV>"],
    ]);
    let real = normalise(recorded("netmap-configure-driver-error.txt"), [
      [REAL_KDIR, "<KDIR>"],
      [REAL_KREAL, "<KREAL>"],
      ["veth.c", "<DRV>"],
    ]);
    // The stand-in's driver is patched already: it never needs the kernel's full sources, so it
    // does not print the real one's "Cannot find full kernel sources" box.
    const box = real.indexOf("*** Cannot find full kernel sources.") - 1;
    expect(real[box]).toMatch(/^\*+ WARNING \*+$/);
    const boxEnd = real.findIndex((l, i) => i > box && /^\*+$/.test(l));
    real = [...real.slice(0, box), ...real.slice(boxEnd + 1)];
    expectSameReport(fake, real);
    expect(fake).toContain("*** native drivers              <DRV> ");
  });

  it("build.sh reads the same drivers from the real report and from the stand-in's", () => {
    const real = recorded("netmap-configure.txt");
    expect(driversBuildShReads(real)).toEqual([]);
    // The real report's line with a driver in it (from the error box of netmap-configure-driver-error.txt).
    const withDriver = /^\*\*\* (native drivers .*)$/m.exec(
      recorded("netmap-configure-driver-error.txt"),
    )![1];
    expect(withDriver).toBe("native drivers              veth.c ");
    expect(driversBuildShReads(real.replace(/^native drivers .*$/m, withDriver))).toEqual(["veth.c"]);

    const { kdir } = fakeKernel();
    const none = configure(script, [`--kernel-dir=${kdir}`, "--no-drivers"]);
    const dummy = configure(script, [`--kernel-dir=${kdir}`, "--drivers=dummy.c"]);
    const unknown = configure(script, [`--kernel-dir=${kdir}`, "--drivers=dummy.c,ixgbe"]);
    expect(driversBuildShReads(none.out)).toEqual([]);
    expect(driversBuildShReads(dummy.out)).toEqual(["dummy.c"]);
    expect(driversBuildShReads(unknown.out)).toEqual(["dummy.c"]);
    expect(unknown.out).toMatch(/^\*\*\* unknown driver: ixgbe$/m);
  });

  it("build.sh's warning pattern catches the real warnings and the stand-in's, and not a clean run", () => {
    const pattern = buildShWarningPattern();
    const grep = (text: string): string[] =>
      linesOf(spawnSync("grep", ["-E", pattern], { input: text, encoding: "utf8" }).stdout);
    expect(grep(recorded("netmap-configure.txt"))).toEqual([]);
    expect(grep(recorded("netmap-configure-warnings.txt"))).toEqual([
      "*** unknown application: nosuch",
      "*** unknown subsystem: bogus",
      "*** Unrecognized option: --frobnicate",
    ]);
    expect(grep(recorded("netmap-configure-driver-error.txt"))).toEqual([
      "*** veth.c is not an external driver",
    ]);
    const { kdir } = fakeKernel();
    const fake = configure(script, [
      `--kernel-dir=${kdir}`,
      "--no-drivers",
      "--apps=nosuch",
      "--enable-bogus",
      "--frobnicate",
      "--select-version=dummy.c:1.0",
    ]);
    expect(grep(fake.out)).toEqual([
      "*** unknown application: nosuch",
      "*** unknown subsystem: bogus",
      "*** Unrecognized option: --frobnicate",
      "*** dummy.c is not an external driver",
    ]);
    expect(
      grep(
        configure(script, [`--kernel-dir=${kdir}`, "--no-drivers", "--enable-ptnetmap", "--disable-monitor"])
          .out,
      ),
    ).toEqual([]);
  });

  it("netmap.mak: build.sh reads S_DRIVERS and APPS_LIST from the real file and the stand-in's; shared variables have the real format", () => {
    const realMak = path.join(RECORDED, "netmap.mak-variables.txt");
    expect(makVariableBuildShReads(realMak, "S_DRIVERS")).toEqual([]);
    expect(makVariableBuildShReads(realMak, "APPS_LIST")).toEqual([
      "dedup",
      "vale-ctl",
      "nmreplay",
      "tlem",
      "lb",
      "bridge",
      "pkt-gen",
    ]);
    const { kdir } = fakeKernel();
    const run = configure(script, [`--kernel-dir=${kdir}`, "--drivers=dummy.c"]);
    const fakeMak = path.join(run.buildDir, "netmap.mak");
    expect(makVariableBuildShReads(fakeMak, "S_DRIVERS")).toEqual(["dummy.c"]);
    expect(makVariableBuildShReads(fakeMak, "APPS_LIST")).toEqual(["vale-ctl", "lb", "bridge", "pkt-gen"]);
    // Every variable both files set is written the same way (name, operator, spacing).
    const assignments = (text: string): Map<string, string> =>
      new Map(
        linesOf(text)
          .map((l) => /^([A-Z_]+)( *(?::=|\?=|=) *)(.*)$/.exec(l))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m): [string, string] => [m[1], m[2]]),
      );
    const real = assignments(fs.readFileSync(realMak, "utf8"));
    const fake = assignments(fs.readFileSync(fakeMak, "utf8"));
    const shared = [...fake.keys()].filter((k) => real.has(k));
    expect(shared).toEqual(
      expect.arrayContaining(["SUBSYS", "KSRC", "LIN_VER", "S_DRIVERS", "APPS_LIST", "PREFIX", "DESTDIR"]),
    );
    for (const k of shared) expect([k, fake.get(k)]).toEqual([k, real.get(k)]);
    const value = (file: string, k: string): string | undefined =>
      new RegExp(`^${k}[ :?]*= *(.*)$`, "m").exec(fs.readFileSync(file, "utf8"))?.[1];
    expect(value(fakeMak, "SUBSYS")).toBe(value(realMak, "SUBSYS"));
    expect(value(fakeMak, "LIN_VER")).toBe(value(realMak, "LIN_VER"));
  });
});

// ---------------------------------------------------------------------------------------------
// The stand-in netmap.ko's kernel log lines (fake-netmap/LINUX/netmap_fake.c)

/** printf for the conversions netmap's log prefix uses (%03d, %06d, %4d, %-25s). */
function cFormat(fmt: string, args: Array<string | number>): string {
  let i = 0;
  return fmt.replace(/%(-?)(0?)(\d*)([ds])/g, (_m, left: string, zero: string, width: string) => {
    const v = String(args[i++]);
    const w = Number(width || 0);
    return left ? v.padEnd(w) : v.padStart(w, zero ? "0" : " ");
  });
}

describe("the stand-in netmap.ko logs like netmap.ko (ptnet-guest-console.txt)", () => {
  const DMESG = /^\[\s*\d+\.\d+\] /;
  const realKernelLines = [
    ...linesOf(recorded("ptnet-guest-console.txt")),
    ...linesOf(fixture("vale-ctl-g.txt")), // its tail is the host's dmesg around an rmmod/insmod
  ]
    .filter((l) => DMESG.test(l))
    .map((l) => l.replace(DMESG, ""));

  it("load and unload lines have the real shape (nm_prinf: time, [line], function padded to 25, message)", () => {
    const source = fs.readFileSync(path.join(FAKE_NETMAP, "LINUX/netmap_fake.c"), "utf8");
    const prefix = /printk\(KERN_INFO "([^"]*)" format "\\n"/.exec(source)?.[1];
    expect(prefix).toBe("%03d.%06d [%4d] %-25s ");
    const calls = [
      ...source.matchAll(
        /static (?:int|void) __(?:init|exit) (\w+)\(void\)\s*\{[^}]*?nm_prinf\("([^"]*)"\)/g,
      ),
    ];
    expect(calls.map((m) => m[2])).toEqual(["netmap: loaded module", "netmap: unloaded module."]);
    for (const [, fn, message] of calls) {
      const real = realKernelLines.find((l) => l.endsWith(` ${message}`));
      expect(real).toBeDefined();
      const printed = cFormat(prefix!, [7, 42, 61, fn]) + message;
      expect(printed).toMatch(shapeOf(real!));
    }
    // test/integration/netmap-kernel.test.ts finds netmap's load in dmesg with this pattern.
    expect(realKernelLines.some((l) => /netmap: loaded module/.test(l))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// QEMU

/** Builds the stand-in QEMU the way build.sh does (its configure, then make) in `build`. */
function fakeQemu(netmap: boolean): { build: string; binary: string; configureOut: string } {
  const dir = freshDir(`qemu-${netmap ? "netmap" : "plain"}`);
  const headers = path.join(dir, "netmap/sys/net");
  fs.mkdirSync(headers, { recursive: true });
  fs.writeFileSync(path.join(headers, "netmap.h"), "");
  fs.writeFileSync(path.join(headers, "netmap_user.h"), "");
  const build = path.join(dir, "build");
  fs.mkdirSync(build);
  const env = { ...process.env };
  delete env.FAKE_QEMU_BUILD_COUNT;
  const conf = spawnSync(
    path.join(FAKE_QEMU, "configure"),
    [
      `--prefix=${dir}/prefix`,
      "--target-list=x86_64-softmmu",
      "--enable-kvm",
      "--enable-vhost-net",
      netmap ? "--enable-netmap" : "--disable-netmap",
      "--disable-werror",
      `--extra-cflags=-I${path.join(dir, "netmap/sys")}`,
      "--disable-docs",
      "--disable-capstone",
      "--python=python3",
    ],
    { cwd: build, encoding: "utf8", env },
  );
  if (conf.status !== 0) throw new Error(conf.stderr);
  const make = spawnSync("make", ["-s"], { cwd: build, encoding: "utf8", env });
  if (make.status !== 0) throw new Error(make.stderr);
  return { build, binary: path.join(build, "qemu-system-x86_64"), configureOut: conf.stdout + conf.stderr };
}

/** `-device help`'s sections: header line → its lines. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of text.replace(/\n$/, "").split("\n\n")) {
    const [header, ...body] = block.split("\n");
    out.set(header, body);
  }
  return out;
}

/** Runs kernel-builds/qemu/build.sh's own verify_binary on a binary. */
function verifyBinary(binary: string): { ok: boolean; stderr: string } {
  const fn = buildShSnippet("kernel-builds/qemu/build.sh", /^verify_binary\(\) \{$/, /^\}$/);
  const r = spawnSync(
    "bash",
    ["-c", `nmtb_die() { echo "DIE: $*" >&2; exit 1; }\n${fn}\nverify_binary "$1"`, "bash", binary],
    { encoding: "utf8" },
  );
  return { ok: r.status === 0, stderr: r.stderr };
}

describe("QEMU stand-in answers the help queries with the real ptnet QEMU's lines", () => {
  const realDevices = recorded("qemu-device-help.txt");
  const realSections = sections(realDevices);
  const netmapOnly = (l: string): boolean => /^name "(ptnet-pci|ptnetmap-memdev)"|^netmap$/.test(l);
  let withNetmap: ReturnType<typeof fakeQemu>;
  let without: ReturnType<typeof fakeQemu>;
  beforeAll(() => {
    withNetmap = fakeQemu(true);
    without = fakeQemu(false);
  });
  /** Runs the stand-in binary built in `build`. */
  const ask = (build: string, ...args: string[]) =>
    spawnSync(path.join(build, "qemu-system-x86_64"), args, { encoding: "utf8" });

  it("the recording has the ptnet devices in their sections", () => {
    expect(realSections.get("Network devices:")).toContain(
      'name "ptnet-pci", bus PCI, desc "Netmap passthrough network device"',
    );
    expect(realSections.get("Misc devices:")).toContain(
      'name "ptnetmap-memdev", bus PCI, desc "ptnetmap memory device"',
    );
    expect(linesOf(recorded("qemu-netdev-help.txt"))).toContain("netmap");
  });

  it.each([true, false])(
    "-device help (netmap %s): whole real sections, in the real order, nothing else",
    (netmap) => {
      const r = ask(netmap ? withNetmap.build : without.build, "-device", "help");
      expect([r.status, r.stderr]).toEqual([0, ""]);
      const fake = sections(r.stdout);
      const order = [...realSections.keys()];
      expect([...fake.keys()]).toEqual(order.filter((h) => fake.has(h)));
      expect([...fake.keys()]).toEqual(["Network devices:", "Misc devices:"]);
      for (const [header, lines] of fake) {
        expect(lines).toEqual(realSections.get(header)!.filter((l) => netmap || !netmapOnly(l)));
      }
      // Exactly the real lines for the ptnet devices, or none of them.
      const ptnet = linesOf(r.stdout).filter(netmapOnly);
      expect(ptnet).toEqual(netmap ? linesOf(realDevices).filter(netmapOnly) : []);
      expect(ptnet.length).toBe(netmap ? 2 : 0);
    },
  );

  it.each([true, false])("-netdev help (netmap %s) is the real answer", (netmap) => {
    const r = ask(netmap ? withNetmap.build : without.build, "-netdev", "help");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      linesOf(recorded("qemu-netdev-help.txt"))
        .filter((l) => netmap || !netmapOnly(l))
        .map((l) => `${l}\n`)
        .join(""),
    );
  });

  it("-device ptnet-pci,help / ptnetmap-memdev,help / --version are the real answers", () => {
    expect(ask(withNetmap.build, "-device", "ptnet-pci,help").stdout).toBe(
      recorded("qemu-device-ptnet-pci-help.txt"),
    );
    expect(ask(withNetmap.build, "-device", "ptnetmap-memdev,help").stdout).toBe(
      recorded("qemu-device-ptnetmap-memdev-help.txt"),
    );
    expect(ask(withNetmap.build, "--version").stdout).toBe(recorded("qemu-version.txt"));
  });

  it("a device it does not have: the real error on stderr, exit 0", () => {
    const real = recorded("qemu-device-nosuch-help.stderr.txt");
    const r = ask(withNetmap.build, "-device", "nosuch,help");
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", real]);
    const plain = ask(without.build, "-device", "ptnet-pci,help");
    expect([plain.status, plain.stdout, plain.stderr]).toEqual([
      0,
      "",
      real.split("nosuch").join("ptnet-pci"),
    ]);
  });

  it("configure reports netmap support in the real line's format (qemu-configure-report.txt)", () => {
    const real = linesOf(recorded("qemu-configure-report.txt")).filter((l) => /^netmap support/.test(l));
    expect(real).toEqual(["netmap support    yes"]);
    expect(linesOf(withNetmap.configureOut)).toContain(real[0]);
    expect(linesOf(without.configureOut)).toContain(real[0].replace(/yes$/, "no"));
  });

  it("build.sh's verify_binary accepts the real answers and the stand-in's; refuses either without ptnet", () => {
    const dir = freshDir("qemu-recorded");
    const replay = (name: string, devices: string, netdevs: string): string => {
      const bin = path.join(dir, name);
      fs.writeFileSync(path.join(dir, `${name}.device`), devices);
      fs.writeFileSync(path.join(dir, `${name}.netdev`), netdevs);
      fs.writeFileSync(
        bin,
        `#!/bin/sh\ncase "$*" in\n  "-device help") cat "$0.device" ;;\n  "-netdev help") cat "$0.netdev" ;;\n  *) exit 1 ;;\nesac\n`,
        { mode: 0o755 },
      );
      return bin;
    };
    const realNetdevs = recorded("qemu-netdev-help.txt");
    const dropNetmap = (t: string): string =>
      linesOf(t)
        .filter((l) => !netmapOnly(l))
        .map((l) => `${l}\n`)
        .join("");
    expect(verifyBinary(replay("real", realDevices, realNetdevs))).toEqual({ ok: true, stderr: "" });
    expect(verifyBinary(withNetmap.binary)).toEqual({ ok: true, stderr: "" });
    expect(verifyBinary(replay("real-no-ptnet", dropNetmap(realDevices), realNetdevs)).stderr).toMatch(
      /DIE: .*does not list ptnet-pci/,
    );
    expect(verifyBinary(replay("real-no-netmap", realDevices, dropNetmap(realNetdevs))).stderr).toMatch(
      /DIE: .*does not list netmap/,
    );
    expect(verifyBinary(without.binary).stderr).toMatch(
      /DIE: .*-device help does not list ptnet-pci.*it printed: Network devices:/s,
    );
  });
});
