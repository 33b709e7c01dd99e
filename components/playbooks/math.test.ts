import { formatCpuList, isConsecutive, parseCpuList } from "./cpu-list";
import { lineRateCurve, lineRateMpps, lineRatePps, WIRE_OVERHEAD_BYTES } from "./line-rate";
import { PAPER_REFERENCES } from "./paper-reference";
import { pktGenArgs } from "./pkt-gen-args";
import { summarize } from "./statistics";

describe("line rate", () => {
  it("is 14.88 Mpps for 60-byte frames (64 B with CRC) on 10 GbE", () => {
    expect(WIRE_OVERHEAD_BYTES).toBe(24);
    expect(lineRatePps(60)).toBeCloseTo(14_880_952.38, 2);
    expect(lineRateMpps(60).toFixed(2)).toBe("14.88");
  });

  it("follows 10e9 / ((size + 4 + 20) * 8) for every size and link speed", () => {
    expect(lineRateMpps(1514)).toBeCloseTo(10e9 / (1538 * 8) / 1e6, 9);
    expect(lineRateMpps(1514).toFixed(3)).toBe("0.813");
    expect(lineRateMpps(60, 40)).toBeCloseTo(4 * lineRateMpps(60), 9);
    expect(lineRateCurve([60, 124])).toEqual([
      { size: 60, mpps: lineRateMpps(60) },
      { size: 124, mpps: lineRateMpps(124) },
    ]);
  });

  it("is the paper's VM-NIC reference at 60 B", () => {
    expect(PAPER_REFERENCES["vm-nic"].mpps).toBe(14.88);
    expect(PAPER_REFERENCES["vm-vm-vale"]).toMatchObject({ size: 60, mpps: 20, atLeast: true });
    expect(PAPER_REFERENCES["vm-vm-pipe"]).toMatchObject({ size: 60, mpps: 70, atLeast: true });
  });
});

describe("summarize", () => {
  it("gives median, min, max and the sample standard deviation", () => {
    expect(summarize([1.9, 1.8, 2.0, 1.7])).toEqual({
      n: 4,
      median: 1.85,
      min: 1.7,
      max: 2.0,
      stddev: expect.closeTo(0.129099, 6) as number,
    });
    expect(summarize([5])).toEqual({ n: 1, median: 5, min: 5, max: 5, stddev: 0 });
    expect(summarize([])).toBeUndefined();
  });
});

describe("CPU lists", () => {
  it("parses kernel-style lists and formats them back", () => {
    expect(parseCpuList("2-5,8")).toEqual([2, 3, 4, 5, 8]);
    expect(parseCpuList(" 1 , 3-4")).toEqual([1, 3, 4]);
    expect(parseCpuList("x")).toMatch(/must look like "2-5,8"/);
    expect(parseCpuList("9000")).toMatch(/beyond the largest CPU number/);
    expect(formatCpuList([2, 3, 4, 8, 10, 11])).toBe("2-4,8,10-11");
    expect(isConsecutive([3, 4, 5])).toBe(true);
    expect(isConsecutive([3, 5])).toBe(false);
  });
});

describe("pktGenArgs", () => {
  it("builds sender and receiver command lines", () => {
    expect(
      pktGenArgs({
        role: "tx",
        port: "vale0:a",
        size: 60,
        threads: 2,
        firstCpu: 4,
        rate: 1000,
        reportIntervalMs: 1000,
      }),
    ).toEqual(["-i", "vale0:a", "-f", "tx", "-l", "60", "-p", "2", "-a", "4", "-R", "1000", "-T", "1000"]);
    expect(
      pktGenArgs({ role: "rx", port: "netmap:p}1", size: 1514, threads: 1, rate: 5, reportIntervalMs: 250 }),
    ).toEqual(["-i", "netmap:p}1", "-f", "rx", "-l", "1514", "-p", "1", "-T", "250", "-W"]);
  });
});
