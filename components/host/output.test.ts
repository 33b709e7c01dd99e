import { LineSplitter, OutputCollector, TailLines, formatOutputTail, truncationMarker } from "./output";

describe("OutputCollector", () => {
  it("keeps everything under the cap, byte-exact", () => {
    const collector = new OutputCollector(100);
    collector.push(Buffer.from([0, 1, 2]));
    collector.push(Buffer.from([255]));
    expect(collector.toBuffer()).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(collector.droppedBytes).toBe(0);
  });

  it("cuts at the cap and appends a marker", () => {
    const collector = new OutputCollector(5);
    collector.push(Buffer.from("abc"));
    collector.push(Buffer.from("defgh"));
    collector.push(Buffer.from("ij"));
    expect(collector.droppedBytes).toBe(5);
    expect(collector.toBuffer().toString()).toBe(`abcde${truncationMarker(5, 5)}`);
    expect(truncationMarker(5, 5)).toMatch(/output truncated: kept the first 5 bytes, dropped 5 bytes/);
  });
});

describe("LineSplitter", () => {
  it("splits lines across chunk boundaries and keeps the last unterminated line", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    for (const chunk of ["ab", "c\nde", "f\r\n\n", "tail"]) {
      splitter.push(Buffer.from(chunk));
    }
    splitter.end();
    expect(lines).toEqual(["abc", "def", "", "tail"]);
  });

  it("does not split a multi-byte character cut between chunks", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    const bytes = Buffer.from("é\n");
    splitter.push(bytes.subarray(0, 1));
    splitter.push(bytes.subarray(1));
    expect(lines).toEqual(["é"]);
  });
});

describe("TailLines", () => {
  it("keeps the last lines, each cut to a maximum length", () => {
    const tail = new TailLines(2, 5);
    ["one", "two", "three-long"].forEach((line) => tail.push(line));
    expect(tail.lines).toEqual(["two", "three… (line cut)"]);
    expect(formatOutputTail(tail.lines)).toBe("  | two\n  | three… (line cut)");
    expect(formatOutputTail([])).toBe("  (no output)");
  });
});
