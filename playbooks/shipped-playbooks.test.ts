/** The playbooks shipped in playbooks/ are part of the product: each must validate against its topology. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkPlaybook } from "../components/playbooks/check";
import { PAPER_SIZES, type PlaybookModel } from "../components/playbooks/model";
import { formatIssue } from "../components/topology";

const DIR = __dirname;
const files = readdirSync(DIR)
  .filter((name) => name.endsWith(".yaml"))
  .sort();

function load(name: string): PlaybookModel {
  const file = join(DIR, name);
  const { model, issues } = checkPlaybook(readFileSync(file, "utf8"), file);
  if (!model) throw new Error(issues.map(formatIssue).join("\n"));
  return model;
}

describe("shipped playbooks", () => {
  it("include the paper's three setups and the host baseline", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "paper-vm-nic.yaml",
        "paper-vm-vm-vale.yaml",
        "paper-vm-vm-pipe.yaml",
        "host-baseline.yaml",
      ]),
    );
  });

  it.each(files)("%s is valid against its topology and named after its file", (name) => {
    const model = load(name);
    expect(model.name).toBe(name.replace(/\.yaml$/, ""));
    // Measurements meant to be set beside the paper's curves use its frame sizes; the demo's
    // short check is the one exception (one size, to finish in about a minute).
    if (name !== "demo-local.yaml") for (const run of model.runs) expect(run.sizes).toEqual(PAPER_SIZES);
  });

  it("the demo's playbook measures the demo topology: VM to VM, then the lab host's own runs", () => {
    const demo = load("demo-local.yaml");
    expect(demo.topology.name).toBe("local");
    expect(demo.runs.map((run) => run.name)).toEqual(["vm-vale", "host-vale", "host-pipe"]);
    // tools/up-local.sh names the host runs under TCG, where ptnet's passthrough cannot start.
    const script = readFileSync(join(DIR, "..", "tools", "up-local.sh"), "utf8");
    expect(script).toContain("runs=(--run host-vale --run host-pipe)");
    const total = demo.runs.reduce(
      (s, run) => s + run.sizes.length * run.repetitions * (run.duration + run.warmup),
      0,
    );
    expect(total).toBeLessThanOrEqual(30);
  });

  it("the paper playbooks use paper-2015 and reproduce the matching figure", () => {
    const figures = Object.fromEntries(
      ["paper-vm-nic", "paper-vm-vm-vale", "paper-vm-vm-pipe"].map((name) => {
        const model = load(`${name}.yaml`);
        expect(model.topology.name).toBe("paper-2015");
        return [name, [...new Set(model.runs.map((run) => run.paper))]];
      }),
    );
    expect(figures).toEqual({
      "paper-vm-nic": ["vm-nic"],
      "paper-vm-vm-vale": ["vm-vm-vale"],
      "paper-vm-vm-pipe": ["vm-vm-pipe"],
    });
  });

  it("the paper playbooks run pkt-gen inside VMs of the right trust level", () => {
    const trustOf = (model: PlaybookModel, vm: string): string | undefined =>
      model.topology.vms.find((candidate) => candidate.name === vm)?.trust;
    const vale = load("paper-vm-vm-vale.yaml");
    const pipe = load("paper-vm-vm-pipe.yaml");
    for (const [model, trust] of [
      [vale, "untrusted"],
      [pipe, "trusted"],
    ] as const) {
      for (const run of model.runs) {
        for (const ep of [run.sender, run.receiver]) {
          expect(ep.kind).toBe("vm");
          if (ep.kind === "vm") expect(trustOf(model, ep.vm)).toBe(trust);
        }
      }
    }
  });

  it("host-baseline needs no VMs: VALE and pipe endpoints on the host", () => {
    const model = load("host-baseline.yaml");
    expect(model.topology.name).toBe("host-only");
    expect(model.runs.map((run) => [run.sender.kind, run.receiver.kind])).toEqual([
      ["vale", "vale"],
      ["pipe", "pipe"],
    ]);
  });
});
