import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { main, type CliIo } from "./main";

const root = path.join(__dirname, "../..");
const examples = fs
  .readdirSync(path.join(root, "stacks/topologies"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => path.join(root, "stacks/topologies", f));
const brokenDir = path.join(root, "test/topologies/broken");
const broken = fs.readdirSync(brokenDir).map((f) => path.join(brokenDir, f));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await main(argv, io);
  return { code, out, err };
}

describe("netmap-testbed validate", () => {
  it("accepts every example topology", async () => {
    const result = await run(["validate", ...examples]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out.trim().split("\n")).toHaveLength(examples.length);
  });

  it.each(broken.map((f) => [path.basename(f), f]))(
    "rejects %s with FILE:LINE:COL: PATH: errors",
    async (_n, file) => {
      const result = await run(["validate", file]);
      expect(result.code).toBe(1);
      const lines = result.err.trim().split("\n");
      expect(lines[0]).toMatch(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: \\S+: .+`),
      );
    },
  );

  it("reports an unreadable file and usage errors", async () => {
    expect((await run(["validate", "/nonexistent.yaml"])).code).toBe(1);
    expect((await run(["validate"])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
  });
});

describe("netmap-testbed plan", () => {
  it("--json gives hosts[].vms[].qemuArgs as exact argv arrays", async () => {
    const file = path.join(root, "stacks/topologies/paper-2015.yaml");
    const result = await run(["plan", file, "--json"]);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.out) as {
      hosts: { name: string; vms: { name: string; qemuArgs: string[] }[] }[];
    };
    expect(Array.isArray(plan.hosts)).toBe(true);
    const vms = plan.hosts.flatMap((h) => h.vms);
    expect(vms.length).toBeGreaterThan(0);
    for (const vm of vms) {
      expect(vm.qemuArgs.every((a) => typeof a === "string")).toBe(true);
      expect(vm.qemuArgs).toContain("-netdev");
      expect(vm.qemuArgs.some((a) => /^netmap,id=\w+,ifname=.+,passthrough=on$/.test(a))).toBe(true);
    }
  });

  it("prints a readable tree, and refuses a broken topology with its errors", async () => {
    const tree = await run(["plan", path.join(root, "stacks/topologies/host-only.yaml")]);
    expect(tree.code).toBe(0);
    expect(tree.out).toMatch(/vale/);
    const bad = await run(["plan", broken[0]]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/:\d+:\d+: /);
    expect(bad.out).toBe("");
  });
});

describe("the built bin", () => {
  const bin = path.join(root, "dist/components/cli/main.js");
  const built = fs.existsSync(bin);
  (built ? it : it.skip)("runs as a program with exit codes", () => {
    const ok = spawnSync(process.execPath, [bin, "validate", examples[0]], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, [bin, "validate", broken[0]], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(
      execFileSync(process.execPath, [bin, "plan", examples[0], "--json"], { encoding: "utf8" }),
    ).toMatch(/"hosts"/);
  });
});
