import * as path from "path";
import { fixture, readTranscript } from "../../test/support/parser-transcripts";
import { parsePktGen, parsePktGenRateLine, PktGenParseError } from "./pkt-gen";

describe("parsePktGen", () => {
  it("parses the VALE receiver sample", () => {
    const r = parsePktGen(fixture("pkt-gen-vale-pin-1.rx.txt"));
    expect(r.role).toBe("rx");
    expect(r.interface).toBe("vale0:b");
    expect(r.periodic).toHaveLength(13);
    expect(r.periodic[0]).toEqual({
      ts: 675.091191,
      pps: 0,
      pkts: 0,
      bps: 0,
      usec: 1001743,
      avgBatch: 0,
      minSpace: 0,
    });
    expect(r.periodic[3]).toEqual({
      ts: 678.099541,
      pps: 1914000,
      pkts: 1919000,
      bps: 918491000,
      usec: 1002850,
      avgBatch: 512,
      minSpace: 512,
    });
    expect(r.summary).toEqual({
      packets: 18829312,
      bytes: 1129758720,
      events: 36776,
      frameSize: 60,
      seconds: 9.9,
      mpps: 1.901,
      mbps: 912.478,
      rawMbps: 912.478,
      avgBatch: 512,
    });
    expect(r.receivedNothing).toBe(false);
    expect(r.complete).toBe(true);
    expect(r.interrupted).toBe(false);
  });

  it("parses the VALE sender sample (interrupted with control-C)", () => {
    const r = parsePktGen(fixture("pkt-gen-vale-pin-1.tx.txt"));
    expect(r.role).toBe("tx");
    expect(r.interface).toBe("vale0:a");
    expect(r.interrupted).toBe(true);
    expect(r.periodic).toHaveLength(11);
    expect(r.periodic[9]).toMatchObject({ pps: 1905000, pkts: 1691000, bps: 914267000, usec: 887596 });
    expect(r.summary).toMatchObject({ packets: 18829312, seconds: 9.91, mpps: 1.901, mbps: 912.317 });
  });

  it("converts Kpps, Mpps, Mbps and Gbps (pipe samples)", () => {
    const rx = parsePktGen(fixture("pkt-gen-pipe-pin-1.rx.txt"));
    expect(rx.interface).toBe("netmap:p}1");
    expect(rx.role).toBe("rx");
    expect(rx.periodic[1]).toMatchObject({ pps: 84610, pkts: 84909, bps: 40613000, usec: 1003535 });
    expect(rx.periodic[2]).toMatchObject({ pps: 6000000, pkts: 6017000, bps: 2880000000 });
    expect(rx.summary).toEqual({
      packets: 48420487,
      bytes: 2905229220,
      events: 94659,
      frameSize: 60,
      seconds: 7.96,
      mpps: 6.082,
      mbps: 2919,
      rawMbps: 2919,
      avgBatch: 511.53,
    });
    const tx = parsePktGen(fixture("pkt-gen-pipe-pin-1.tx.txt"));
    expect(tx.interface).toBe("netmap:p{1");
    expect(tx.role).toBe("tx");
    expect(tx.summary).toMatchObject({ packets: 48420487, mbps: 2920 });
  });

  it("parses the receiver fed by a ptnet guest (idle lines and an editor's note in between)", () => {
    const r = parsePktGen(fixture("pkt-gen-rx-from-ptnet-guest.txt"));
    expect(r.interface).toBe("vale0:rx");
    expect(r.role).toBe("rx");
    expect(r.periodic.map((s) => s.pps)).toEqual([0, 0, 391758, 1022000, 582177]);
    expect(r.summary).toMatchObject({ packets: 2000000, bytes: 120000000, seconds: 2.04, mpps: 0.981021 });
  });

  it("recognises 'Received nothing.'", () => {
    const out = [
      "720.447008 main [3036] interface is vale0:b",
      "723.567952 main_thread [2781] 0.000 pps (0.000 pkts 0.000 bps in 1002181 usec) 0.00 avg_batch 0 min_space",
      "Receiving from vale0:b: 1 queues, 1 threads and 1 cpus.",
      "Received nothing.",
    ].join("\n");
    const r = parsePktGen(out);
    expect(r).toMatchObject({ role: "rx", receivedNothing: true, summary: null, complete: true });
  });

  it("accepts -A statistics, -N raw units and CRLF line ends", () => {
    const out = [
      "1.000000 main [3036] interface is vale0:a",
      "2.000000 main_thread [2781] 1914000 pps [avg/std 1.9 M/10 K pps] (1919000 pkts 918491000 bps in 1002850 usec) 512.00 avg_batch 99999 min_space",
      "Sending on vale0:a: 1 queues, 1 threads and 1 cpus.",
      "Sent 5 packets 300 bytes 1 events 60 bytes each in 1.00 seconds.",
      "Speed: 5 pps Bandwidth: 2400 bps (raw 2400 bps). Average batch: 5.00 pkts",
    ].join("\r\n");
    const r = parsePktGen(out);
    expect(r.periodic[0]).toMatchObject({ pps: 1914000, pkts: 1919000, bps: 918491000 });
    expect(r.summary).toMatchObject({ packets: 5, mpps: 0.000005, mbps: 0.0024 });
  });

  it("rejects output that is not pkt-gen's, with a clear message", () => {
    expect(() => parsePktGen("hello\nworld\n")).toThrow(PktGenParseError);
    expect(() => parsePktGen("hello\nworld\n")).toThrow(/not pkt-gen output/);
    expect(() =>
      parsePktGen("1.0 main [1] interface is vale0:a\n2.0 main_thread [2781] fast (very) avg_batch\n"),
    ).toThrow(/line 2: unrecognised rate line/);
    expect(() => parsePktGen("1.0 main [1] interface is vale0:a\nReceived 12 packets, oops\n")).toThrow(
      /line 2: malformed summary line/,
    );
    expect(() => parsePktGen("1.0 main [1] interface is vale0:a\n")).toThrow(/sender or a receiver/);
  });
});

describe("parsePktGenRateLine", () => {
  it("reads every periodic line of the samples exactly as parsePktGen does", () => {
    for (const name of [
      "pkt-gen-vale-pin-1.rx.txt",
      "pkt-gen-pipe-pin-1.tx.txt",
      "pkt-gen-rx-from-ptnet-guest.txt",
    ]) {
      const text = fixture(name);
      const streamed = text
        .split("\n")
        .map((line) => parsePktGenRateLine(line))
        .filter((sample) => sample !== null);
      expect(streamed).toEqual(parsePktGen(text).periodic);
    }
  });

  it("ignores other lines and rejects a garbled rate line", () => {
    expect(parsePktGenRateLine("674.087546 start_threads [2697] Ready...")).toBeNull();
    expect(parsePktGenRateLine("Speed: 1.901 Mpps Bandwidth: 912.478 Mbps (raw 912.478 Mbps).")).toBeNull();
    expect(() => parsePktGenRateLine("1.0 main_thread [2781] fast (very) avg_batch")).toThrow(
      PktGenParseError,
    );
  });
});

describe("pkt-gen without the netmap module (real recording: test/fixtures/recorded/pkt-gen-no-module.txt)", () => {
  const calls = readTranscript(path.resolve(__dirname, "../../test/fixtures/recorded/pkt-gen-no-module.txt"));

  it("a run that could not open /dev/netmap is rejected, not read as a result", () => {
    for (const command of ["pkt-gen -i vale0:a -f tx -l 60", "pkt-gen -i vale0:b -f rx -W"]) {
      const c = calls.find((x) => x.command === command)!;
      expect(c.rc).toBe(255);
      expect(c.stderr).toMatch(/^\/dev\/netmap: No such file or directory$/m);
      // It stops after its start-up lines: no sender/receiver line, no report. (The error names
      // the missing role, not /dev/netmap: the caller has to show pkt-gen's own output.)
      expect(() => parsePktGen(c.stderr + c.stdout)).toThrow(
        /cannot tell whether pkt-gen on vale0:[ab] was a sender/,
      );
    }
  });

  it("none of its lines is taken for a rate line", () => {
    for (const c of calls) {
      for (const line of c.stderr.split("\n")) expect(parsePktGenRateLine(line)).toBeNull();
    }
  });

  it("a missing -i is not pkt-gen output the parser can use", () => {
    const c = calls.find((x) => x.command === "pkt-gen -f tx")!;
    expect(() => parsePktGen(c.stderr)).toThrow(/not pkt-gen output/);
  });
});
