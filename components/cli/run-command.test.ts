import * as path from "node:path";
import type { CliIo } from "./main";
import { parseRunArgs, RUN_USAGE, runRun, stackTopology } from "./run-command";

const root = path.join(__dirname, "../..");

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runRun(argv, io);
  return { code, out, err };
}

describe("netmap-testbed run: arguments", () => {
  it("parses options with separate or inline values", () => {
    expect(parseRunArgs(["p.yaml", "--out=/tmp/r", "--pkt-gen", "/opt/pkt-gen", "--check"])).toEqual({
      playbook: "p.yaml",
      out: "/tmp/r",
      pktGen: "/opt/pkt-gen",
      check: true,
    });
    expect(parseRunArgs([])).toBe("give one PLAYBOOK");
    expect(parseRunArgs(["a", "b"])).toBe("give one PLAYBOOK, got 2");
    expect(parseRunArgs(["a", "--identity"])).toBe("--identity needs a value");
    expect(parseRunArgs(["a", "--fast"])).toBe("unknown option --fast");
    expect(parseRunArgs(["a", "--topology", "t", "--stack", "s"])).toBe(
      "give --topology or --stack, not both",
    );
  });

  it("shows usage for --help and exits 2 on usage errors", async () => {
    expect(await run(["--help"])).toEqual({ code: 0, out: `${RUN_USAGE}\n`, err: "" });
    const bad = await run(["--nope", "p.yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("unknown option --nope");
  });

  it("finds a stack's topology", () => {
    expect(stackTopology("lab", root)).toBe(path.join(root, "stacks/topologies/paper-2015.yaml"));
    expect(() => stackTopology("nope", root)).toThrow(/no stacks\/Pulumi.nope.yaml/);
    expect(() => stackTopology("../x", root)).toThrow(/may contain only/);
  });
});

describe("netmap-testbed run --check", () => {
  it("validates every shipped playbook without contacting a host", async () => {
    for (const name of ["paper-vm-nic", "paper-vm-vm-vale", "paper-vm-vm-pipe", "host-baseline"]) {
      const result = await run([path.join(root, "playbooks", `${name}.yaml`), "--check"]);
      expect(result).toMatchObject({ code: 0, err: "" });
      expect(result.out).toMatch(/: ok \(\d+ run\(s\), \d+ measurement\(s\) on topology /);
    }
  });

  it("honours --stack and --topology, and reports problems as FILE:LINE:COL: PATH: message", async () => {
    const vale = path.join(root, "playbooks", "paper-vm-vm-vale.yaml");
    // The lab stack's topology is paper-2015 as shipped.
    expect(await run([vale, "--stack", "lab", "--check"])).toMatchObject({ code: 0, err: "" });
    const paper = path.join(root, "stacks/topologies/paper-2015.yaml");
    expect(await run([vale, "--topology", paper, "--check"])).toMatchObject({ code: 0, err: "" });
    const wrong = await run([
      vale,
      "--topology",
      path.join(root, "stacks/topologies/host-only.yaml"),
      "--check",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`${vale}:`);
    expect(wrong.err).toMatch(/:\d+:\d+: runs\[0\]\.sender: VM "vm-vale-a" is not in the topology/);
    expect((await run(["/nonexistent.yaml", "--check"])).code).toBe(1);
  });

  it("needs credentials before contacting hosts", async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    delete process.env.SSH_AUTH_SOCK;
    try {
      const result = await run([path.join(root, "playbooks", "host-baseline.yaml")]);
      expect(result.code).toBe(2);
      expect(result.err).toContain("no SSH credentials: give --identity FILE");
    } finally {
      if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
    }
  });
});
