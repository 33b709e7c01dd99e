import { topologicalOrder } from "./steps";
import type { PlanStep } from "./types";

const step = (id: string, dependsOn: string[] = []): PlanStep => ({
  id,
  kind: "scripts",
  description: id,
  dependsOn,
});

describe("topologicalOrder", () => {
  it("puts every step after its dependencies, keeping the listed order otherwise", () => {
    const ordered = topologicalOrder([step("c", ["b"]), step("a"), step("b", ["a"]), step("d")]);
    expect(ordered.map((s) => s.id)).toEqual(["a", "b", "c", "d"]);
  });

  it("rejects an unknown dependency", () => {
    expect(() => topologicalOrder([step("a", ["ghost"])])).toThrow(/unknown step ghost/);
  });

  it("rejects a cycle", () => {
    expect(() => topologicalOrder([step("a", ["b"]), step("b", ["a"])])).toThrow(/cycle/);
  });

  it("rejects duplicate ids", () => {
    expect(() => topologicalOrder([step("a"), step("a")])).toThrow(/duplicate/);
  });
});
