import { checkSvg } from "../../test/support/svg-check";
import { plotSpec, renderPlotSvg } from "./plot";
import { renderReport } from "./report";
import { summarizeResults, type RepetitionRecord, type RunRecord, type SampleRecord } from "./results";
import type { Manifest } from "./manifest";

const run: RunRecord = {
  name: "vale",
  sender: "vale0:a on h1",
  receiver: "vale0:b on h1",
  senderPort: "vale0:a",
  receiverPort: "vale0:b",
  sizes: [60, 1514],
  duration: 2,
  warmup: 1,
  repetitions: 2,
  threads: 1,
  paper: "vm-vm-vale",
};

function sample(
  size: number,
  repetition: number,
  phase: SampleRecord["phase"],
  mpps: number,
  side: "tx" | "rx" = "rx",
): SampleRecord {
  return {
    run: "vale",
    size,
    repetition,
    side,
    phase,
    t: 1,
    ts: 1,
    mpps,
    gbps: mpps * size * 8e-3,
    pkts: 1,
    usec: 1e6,
  };
}

const samples: SampleRecord[] = [
  sample(60, 1, "warmup", 0.1),
  sample(60, 1, "measure", 2.0),
  sample(60, 1, "measure", 2.2),
  sample(60, 1, "measure", 2.1, "tx"),
  sample(60, 2, "measure", 1.8),
  sample(60, 2, "drain", 0),
];
const rep = (repetition: number, rxMpps?: number): RepetitionRecord => ({
  run: "vale",
  size: 60,
  repetition,
  status: rxMpps === undefined ? "failed" : "ok",
  startedAt: "s",
  endedAt: "e",
  ...(rxMpps === undefined ? {} : { rxMpps }),
  senderSummary: null,
  receiverSummary: null,
});

describe("summarizeResults", () => {
  it("summarises measured receiver samples only, per run and size", () => {
    const summaries = summarizeResults([run], samples, [rep(1, 2.1), rep(2, 1.8)], 10);
    expect(summaries).toHaveLength(1); // 1514 B has no samples
    const [s] = summaries;
    expect(s).toMatchObject({ run: "vale", size: 60, repetitions: 2 });
    expect(s.mpps).toMatchObject({ n: 3, median: 2.0, min: 1.8, max: 2.2 });
    expect(s.mpps.stddev).toBeCloseTo(0.2, 9);
    expect(s.txMpps).toMatchObject({ n: 1, median: 2.1 });
    expect(s.repetitionMpps.n).toBe(2);
    expect(s.repetitionMpps.median).toBeCloseTo(1.95, 9);
    expect(s.lineRateMpps).toBeCloseTo(14.88095, 4);
    expect(s.percentOfLineRate).toBeCloseTo((2.0 / 14.880952) * 100, 3);
  });
});

describe("plot", () => {
  const summaries = summarizeResults([run], samples, [rep(1, 2.1), rep(2, 1.8)], 10);

  it("layers the line-rate curve, the measured medians with min-max and the paper's point", () => {
    const spec = plotSpec({
      title: "t",
      lineRateGbps: 10,
      series: [{ run: "vale", paper: "vm-vm-vale", points: summaries }],
    });
    const json = JSON.stringify(spec);
    expect(json).toContain('"series":"10 GbE line rate","size":60,"mpps":14.880952380952381');
    expect(json).toContain("paper: VM↔VM over VALE > 20 Mpps");
  });

  it("renders a well-formed SVG document with the curve, the series and the labels", async () => {
    const svg = await renderPlotSvg({
      title: "host-baseline: Mpps vs frame size",
      lineRateGbps: 10,
      series: [{ run: "vale", paper: "vm-vm-vale", points: summaries }],
    });
    const shape = checkSvg(svg);
    expect(shape.root).toBe("svg");
    expect(shape.width).toBeGreaterThan(500);
    expect(shape.height).toBeGreaterThan(300);
    expect(shape.elements.path).toBeGreaterThan(3);
    expect(shape.texts).toEqual(
      expect.arrayContaining([
        "host-baseline: Mpps vs frame size",
        "10 GbE line rate",
        "Mpps",
        "vale",
        "paper: VM↔VM over VALE &gt; 20 Mpps",
      ]),
    );
    expect(() => checkSvg(`${svg.slice(0, -6)}`)).toThrow();
  });
});

describe("renderReport", () => {
  it("tabulates each run against line rate and the paper, and lists machines and tuning", () => {
    const summaries = summarizeResults([run], samples, [rep(1, 2.1), rep(2, 1.8)], 10);
    const manifest = {
      tool: { name: "netmap-testbed", version: "0.1.0", gitCommit: "0123456789abcdef", gitDirty: true },
      playbook: { file: "playbooks/host-baseline.yaml", name: "host-baseline", sha256: "a".repeat(64) },
      topology: { file: "stacks/topologies/host-only.yaml", name: "host-only", sha256: "b".repeat(64) },
      pktGen: "pkt-gen",
      machines: [
        {
          name: "h1",
          kind: "host",
          kernel: "6.1.0",
          cpuModel: "Xeon",
          netmap: { loaded: true, params: {}, state: {}, buildKey: "k1" },
          qemu: {},
          nics: [{ interface: "ens1f0", ethtool: { driver: "ixgbe", version: "6.1.6" } }],
        },
      ],
      tuning: {
        spec: { flowControl: "off", offloads: "off", governor: "performance", pinning: true },
        actions: [
          { machine: "h1", setting: "governor", target: "cpus", outcome: "applied", restored: "applied" },
        ],
      },
    } as unknown as Manifest;
    const md = renderReport({
      results: {
        playbook: "host-baseline",
        startedAt: "2025-01-01T00:00:00.000Z",
        finishedAt: "2025-01-01T00:01:00.000Z",
        interrupted: true,
        lineRateGbps: 10,
        runs: [run],
        repetitions: [rep(1, 2.1), rep(2)],
        summaries,
        samples,
      },
      manifest,
      plots: [{ file: "mpps-vs-size.svg", title: "all runs" }],
    });
    expect(md).toContain("**interrupted (Ctrl-C): partial results**");
    expect(md).toContain("at 0123456789ab (uncommitted changes)");
    expect(md).toContain("![all runs](mpps-vs-size.svg)");
    expect(md).toContain("| 60 | 2.000 | 1.800 | 2.200 | 0.200 | 0.960 | 14.881 | 13.4% | 2 |");
    expect(md).toContain(
      "Paper reference at 60 B: more than 20 Mpps (paper: VM↔VM over VALE > 20 Mpps); 2.000 Mpps measured.",
    );
    expect(md).toContain("- size 60 B, repetition 2: **failed**");
    expect(md).toContain("| h1 (host) | 6.1.0 | Xeon | loaded, build k1 | ens1f0: ixgbe 6.1.6 |");
    expect(md).toContain("| h1 | governor | cpus | applied | applied |");
  });
});
