/**
 * Every file in test/topologies/broken/ breaks one rule and lists, in `# expect:` lines at its top,
 * exactly the issues it must produce: `# expect: LINE:COL: PATH: substring-of-message`.
 * The check is exact in both directions: each expectation must be reported (at that position and
 * path), and nothing else may be reported, so a rule that goes quiet or noisy fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkTopology, formatIssue } from "../../components/topology";

const DIR = join(__dirname, "..", "topologies", "broken");
const EXPECT = /^# expect: (\d+):(\d+): (\S+): (.+)$/;

interface Expected {
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly substring: string;
}

function expectations(text: string): Expected[] {
  const result: Expected[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("# expect:")) break;
    const match = EXPECT.exec(line);
    if (!match) throw new Error(`malformed expect line: ${line}`);
    result.push({ line: Number(match[1]), col: Number(match[2]), path: match[3], substring: match[4] });
  }
  return result;
}

const files = readdirSync(DIR)
  .filter((name) => name.endsWith(".yaml"))
  .sort();

describe("broken topologies", () => {
  it("cover the rules (one file per rule)", () => {
    expect(files.length).toBeGreaterThanOrEqual(60);
  });

  it.each(files)("%s reports exactly its expected issues", (name) => {
    const file = `test/topologies/broken/${name}`;
    const text = readFileSync(join(DIR, name), "utf8");
    const expected = expectations(text);
    expect(expected.length).toBeGreaterThan(0);

    const { model, issues } = checkTopology(text, file);
    expect(model).toBeUndefined();
    const reported = issues.map(formatIssue);
    for (const want of expected) {
      const prefix = `${file}:${want.line}:${want.col}: ${want.path}: `;
      const match = reported.find(
        (line) => line.startsWith(prefix) && line.slice(prefix.length).includes(want.substring),
      );
      if (!match) throw new Error(`missing ${prefix}…${want.substring}…\nreported:\n${reported.join("\n")}`);
    }
    expect(issues).toHaveLength(expected.length);
  });
});
