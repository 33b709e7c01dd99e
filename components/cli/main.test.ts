import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import type { CliIo } from "./io";
import { main } from "./main";

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

  it("rejects an unknown option as a usage error (exit 2), not as a file", async () => {
    const result = await run(["validate", "--bogus"]);
    expect(result).toEqual({
      code: 2,
      out: "",
      err:
        "netmap-testbed validate: unknown option --bogus (a file of that name: ./--bogus); " +
        "usage: netmap-testbed validate FILE... (netmap-testbed validate --help lists the options)\n",
    });
    // After "--" every argument is a file.
    expect(await run(["validate", "--", "--bogus"])).toEqual({
      code: 1,
      out: "",
      err: "--bogus: no such file (give a topology file)\n",
    });
    expect(await run(["validate", "--help"])).toMatchObject({ code: 0, err: "" });
  });
});

describe("path errors: one line with the fix, never EISDIR / ENOENT or the file's bytes", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-main-cli-"));
    fs.writeFileSync(path.join(tmp, "zeros.yaml"), Buffer.alloc(64));
    fs.writeFileSync(path.join(tmp, "latin1.yaml"), Buffer.from("name: caf\xe9\n", "latin1"));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const cases: [string, () => string, (file: string) => string][] = [
    ["a missing file", () => "stacks/x.yaml", (f) => `${f}: no such file (give a topology file)`],
    ["a directory", () => tmp, (f) => `${f}: is a directory (give a topology file)`],
    ["NUL bytes", () => path.join(tmp, "zeros.yaml"), (f) => `${f}: not a text file (binary or not UTF-8)`],
    [
      "invalid UTF-8",
      () => path.join(tmp, "latin1.yaml"),
      (f) => `${f}: not a text file (binary or not UTF-8)`,
    ],
    [
      "a playbook",
      () => path.join(root, "playbooks/paper-vm-nic.yaml"),
      (f) => `${f}: this is a playbook, not a topology; check it with: netmap-testbed run ${f} --check`,
    ],
  ];
  it.each(cases)("validate: %s → exit 1", async (_what, file, message) => {
    expect(await run(["validate", file()])).toEqual({ code: 1, out: "", err: `${message(file())}\n` });
  });
  it.each(cases)("plan: %s → exit 1", async (_what, file, message) => {
    expect(await run(["plan", file()])).toEqual({ code: 1, out: "", err: `${message(file())}\n` });
  });

  it("plan: unknown options and file counts are usage errors (exit 2) in one line", async () => {
    for (const args of [["--bogus", examples[0]], [], [examples[0], examples[1]]]) {
      const result = await run(["plan", ...args]);
      expect(result.code).toBe(2);
      expect(result.err.trim().split("\n")).toHaveLength(1);
      expect(result.err).toContain("usage: netmap-testbed plan FILE [--json]");
    }
  });
});

describe("netmap-testbed --version", () => {
  const version = (
    JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }
  ).version;
  it.each([["--version"], ["-V"]])("%s prints the package's version, exit 0", async (flag) => {
    expect(await run([flag])).toEqual({ code: 0, out: `${version}\n`, err: "" });
  });

  it("is in the usage text", async () => {
    expect((await run(["--help"])).out).toContain("-V, --version");
  });

  it("an unknown top-level option is one line, exit 2", async () => {
    expect(await run(["--bogus"])).toEqual({
      code: 2,
      out: "",
      err: 'netmap-testbed: unknown option "--bogus"; commands: validate, plan, status, run (netmap-testbed --help lists them)\n',
    });
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

  (built ? it : it.skip)(
    "prints the version of the package.json above the compiled file, from any directory",
    () => {
      const version = (
        JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }
      ).version;
      const result = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8", cwd: os.tmpdir() });
      expect(result).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: "" });
    },
  );
});
