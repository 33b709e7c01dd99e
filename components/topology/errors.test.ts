import { formatIssue, sortIssues, TopologyError, type TopologyIssue } from "./errors";

const issue = (line: number, col: number, path: string): TopologyIssue => ({
  file: "lab.yaml",
  line,
  col,
  path,
  message: `problem at ${path}`,
});

describe("issue formatting", () => {
  it("prints FILE:LINE:COL: PATH: message", () => {
    expect(formatIssue(issue(3, 7, "vms.vm1.nics[1].pipe"))).toBe(
      "lab.yaml:3:7: vms.vm1.nics[1].pipe: problem at vms.vm1.nics[1].pipe",
    );
  });

  it("sorts issues in document order", () => {
    const sorted = sortIssues([issue(9, 1, "b"), issue(2, 5, "c"), issue(2, 3, "a")]);
    expect(sorted.map((i) => `${i.line}:${i.col}`)).toEqual(["2:3", "2:5", "9:1"]);
  });

  it("TopologyError carries and prints every issue", () => {
    const error = new TopologyError([issue(1, 1, "name"), issue(4, 2, "hosts")]);
    expect(error).toBeInstanceOf(Error);
    expect(error.issues).toHaveLength(2);
    expect(error.message).toContain("2 problems");
    expect(error.message).toContain("lab.yaml:1:1: name: ");
    expect(error.message).toContain("lab.yaml:4:2: hosts: ");
  });
});
