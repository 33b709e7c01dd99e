import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CliIo } from "./io";
import { parseRunArgs, RUN_USAGE, runRun, stackTopology, type RunCommandOptions } from "./run-command";

const root = path.join(__dirname, "../..");

async function run(
  argv: string[],
  options?: RunCommandOptions,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  const code = await runRun(argv, io, options);
  return { code, out, err };
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-run-cli-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(rel: string, content: string | Buffer): string {
  const file = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

const shipped = (name: string): string => path.join(root, "playbooks", `${name}.yaml`);

describe("netmap-testbed run: arguments", () => {
  it("parses options with separate or inline values", () => {
    expect(parseRunArgs(["p.yaml", "--out=/tmp/r", "--pkt-gen", "/opt/pkt-gen", "--check"])).toEqual({
      playbook: "p.yaml",
      out: "/tmp/r",
      pktGen: "/opt/pkt-gen",
      check: true,
      runs: [],
    });
    expect(parseRunArgs(["p.yaml", "--run", "vale", "--run=pipe"])).toMatchObject({ runs: ["vale", "pipe"] });
    expect(parseRunArgs(["p.yaml", "--run"])).toBe("--run needs the name of a run");
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
    expect(bad.err).toBe(
      "netmap-testbed run: unknown option --nope; usage: netmap-testbed run PLAYBOOK [--topology FILE | --stack NAME] [options] (netmap-testbed run --help lists the options)\n",
    );
  });

  it("finds a stack's topology", () => {
    expect(stackTopology("lab", root)).toBe(path.join(root, "stacks/topologies/paper-2015.yaml"));
    expect(() => stackTopology("nope", root)).toThrow(/no stacks\/Pulumi.nope.yaml/);
    expect(() => stackTopology("../x", root)).toThrow(/may contain only/);
  });

  it("finds a stack of the project at or above the working directory, never this package's own", () => {
    write("proj/Pulumi.yaml", "name: mylab\nruntime: nodejs\nstackConfigDir: config\n");
    write("proj/config/Pulumi.dev.yaml", "config:\n  netmap-testbed:topology: topo/lab.yaml\n");
    expect(stackTopology("dev", path.join(tmp, "proj", "sub", "dir"))).toBe(
      path.join(tmp, "proj/topo/lab.yaml"),
    );
    // "lab" exists in this repository's stacks/, not in the user's project: no fallback to it.
    expect(() => stackTopology("lab", path.join(tmp, "proj"))).toThrow(
      `no stack "lab" in the Pulumi project ${path.join(tmp, "proj")} (no config/Pulumi.lab.yaml)`,
    );
    expect(() => stackTopology("lab", tmp)).toThrow(
      `no Pulumi project: no Pulumi.yaml in ${tmp} or above; run this in your Pulumi project's directory to name a stack, or give the topology file`,
    );
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

describe("netmap-testbed run: where the topology comes from", () => {
  /** A shipped playbook as an installed package has it: without the repository's stacks/ beside it. */
  function installedPlaybook(name: string): string {
    return write(`node_modules/netmap-testbed/playbooks/${name}.yaml`, fs.readFileSync(shipped(name)));
  }

  it("a playbook's relative topology that is not there: one line saying to pass --topology or --stack", async () => {
    const file = installedPlaybook("host-baseline");
    const result = await run([file, "--check"], { cwd: tmp });
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `${file}: its topology ../stacks/topologies/host-only.yaml is read relative to the playbook: ` +
        `${path.join(tmp, "node_modules/netmap-testbed/stacks/topologies/host-only.yaml")}: no such file ` +
        `(pass --topology FILE, or --stack NAME for a stack of the Pulumi project in this directory)\n`,
    );
  });

  it("--topology and --stack override the playbook's own topology", async () => {
    const file = installedPlaybook("host-baseline");
    const topology = write(
      "lab/host-only.yaml",
      fs.readFileSync(path.join(root, "stacks/topologies/host-only.yaml")),
    );
    const viaFile = await run([file, "--topology", topology, "--check"], { cwd: tmp });
    expect(viaFile).toMatchObject({ code: 0, err: "" });
    expect(viaFile.out).toContain("on topology host-only");
    write("Pulumi.yaml", "name: mylab\nruntime: nodejs\n");
    write("Pulumi.bench.yaml", "config:\n  mylab:topology: lab/host-only.yaml\n");
    const viaStack = await run([file, "--stack", "bench", "--check"], { cwd: path.join(tmp, "lab") });
    expect(viaStack).toMatchObject({ code: 0, err: "" });
    expect(viaStack.out).toContain("on topology host-only");
  });

  it("a --stack that is not there, or names a missing topology, is one line with the fix", async () => {
    const file = installedPlaybook("host-baseline");
    const none = await run([file, "--stack", "lab", "--check"], { cwd: tmp });
    expect(none.code).toBe(1);
    expect(none.err).toBe(
      `--stack lab: no Pulumi project: no Pulumi.yaml in ${tmp} or above; run this in your Pulumi project's directory to name a stack, or give the topology file\n`,
    );
    write("Pulumi.yaml", "name: mylab\n");
    write("Pulumi.lab.yaml", "config:\n  netmap-testbed:topology: gone.yaml\n");
    const gone = await run([file, "--stack", "lab", "--check"], { cwd: tmp });
    expect(gone.code).toBe(1);
    expect(gone.err).toBe(
      `${path.join(tmp, "gone.yaml")}: no such file (named by ${path.join(tmp, "Pulumi.lab.yaml")}; fix that setting or pass --topology FILE)\n`,
    );
  });
});

describe("netmap-testbed run: files and flags, one line each", () => {
  it.each([
    [
      "a missing playbook",
      () => path.join(tmp, "nope.yaml"),
      (f: string) => `${f}: no such file (give a playbook file)`,
    ],
    ["a directory", () => tmp, (f: string) => `${f}: is a directory (give a playbook file)`],
    [
      "a binary file",
      () => write("bin.yaml", Buffer.from([0x00, 0x01, 0x02, 0xff])),
      (f: string) => `${f}: not a text file (binary or not UTF-8)`,
    ],
    [
      "Latin-1 text",
      () => write("latin1.yaml", Buffer.from("name: caf\xe9\n", "latin1")),
      (f: string) => `${f}: not a text file (binary or not UTF-8)`,
    ],
    [
      "a topology given as the playbook",
      () => path.join(root, "stacks/topologies/host-only.yaml"),
      (f: string) =>
        `${f}: this is a topology, not a playbook; give it as --topology ${f} to a playbook, or check it with: netmap-testbed validate ${f}`,
    ],
  ])("%s → exit 1", async (_what, make, message) => {
    const file = make();
    const result = await run([file, "--check"]);
    expect(result).toEqual({ code: 1, out: "", err: `${message(file)}\n` });
  });

  it("--topology naming a directory or a missing file", async () => {
    const dirResult = await run([shipped("host-baseline"), "--topology", tmp, "--check"]);
    expect(dirResult).toEqual({
      code: 1,
      out: "",
      err: `${tmp}: is a directory (give --topology a topology file)\n`,
    });
    const missing = path.join(tmp, "x.yaml");
    const missingResult = await run([shipped("host-baseline"), "--topology", missing, "--check"]);
    expect(missingResult.err).toBe(`${missing}: no such file (give --topology a topology file)\n`);
  });

  it("--identity, --host-key-file and --out that cannot be used are refused before any host is contacted", async () => {
    const playbook = shipped("host-baseline");
    const key = write("id", "key");
    expect(await run([playbook, "--identity", tmp], { env: {} })).toEqual({
      code: 1,
      out: "",
      err: `netmap-testbed run: --identity ${tmp}: is a directory (give --identity an SSH private key file)\n`,
    });
    const noKeys = path.join(tmp, "keys");
    expect(await run([playbook, "--identity", key, "--host-key-file", noKeys], { env: {} })).toEqual({
      code: 1,
      out: "",
      err: `netmap-testbed run: --host-key-file ${noKeys}: no such file (give --host-key-file a file of host keys)\n`,
    });
    expect(await run([playbook, "--identity", key, "--out", key], { env: {} })).toEqual({
      code: 1,
      out: "",
      err: `netmap-testbed run: --out ${key}: not a directory (give --out a directory)\n`,
    });
  });

  it("missing credentials name every way to give them; a stale SSH_AUTH_SOCK is said to be one", async () => {
    const stale = path.join(tmp, "agent.sock");
    const result = await run([shipped("host-baseline")], { env: { SSH_AUTH_SOCK: stale } });
    expect(result).toEqual({
      code: 2,
      out: "",
      err:
        "netmap-testbed run: no SSH credentials: give --identity FILE (a private key the hosts accept), " +
        `or start an ssh-agent holding it and export SSH_AUTH_SOCK (SSH_AUTH_SOCK=${stale} is not a socket (a stale agent?))\n`,
    });
  });
});

describe("netmap-testbed run: chosen runs and local-lab hosts", () => {
  it("--run measures only the runs it names; a run the playbook lacks is a usage error", async () => {
    const one = await run([shipped("host-baseline"), "--run", "pipe", "--check"]);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/ok \(1 run\(s\)/);
    const unknown = await run([shipped("host-baseline"), "--run", "vm", "--check"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("--run vm: no such run in host-baseline (its runs: vale, pipe)");
  });

  /** A playbook on the shipped local lab topology, measured on the lab host itself. */
  function labPlaybook(): string {
    const topology = path.join(root, "stacks", "topologies", "local.yaml");
    return write(
      "lab.yaml",
      `apiVersion: netmap-testbed/playbook-v1
name: lab-host
topology: ${topology}
defaults: { sizes: [60], duration: 1, warmup: 0, repetitions: 1 }
runs:
  - name: pipe
    sender: { pipe: chain0, id: 1, end: master }
    receiver: { pipe: chain0, id: 1, end: slave }
`,
    );
  }

  it("reaches a booted lab host by what boot-host.sh recorded: its port, host key and login key", async () => {
    // A port nothing listens on: the run must try 127.0.0.1 there with the lab's key, not ask for credentials.
    const port = 1;
    const labRoot = path.join(tmp, "lab");
    const key = write("lab/local-lab1/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nnot read here\n");
    write(
      "lab/local-lab1/host.json",
      JSON.stringify({
        name: "local-lab1",
        sshPort: port,
        address: "127.0.0.1",
        user: "root",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47",
        privateKeyPath: key,
      }),
    );
    const result = await run([labPlaybook(), "--lab-state", labRoot, "--out", path.join(tmp, "results")], {
      env: {},
      cwd: tmp,
    });
    expect(result.err).not.toMatch(/no SSH credentials/);
    expect(result.err).toContain(`127.0.0.1:${port}`);
    expect(result.code).toBe(1);
  });

  it("a lab host that is not booted is one line saying how to boot it or where to look", async () => {
    fs.mkdirSync(path.join(tmp, "empty-lab"));
    const result = await run([labPlaybook(), "--lab-state", path.join(tmp, "empty-lab")], {
      env: {},
      cwd: tmp,
    });
    expect(result.code).toBe(1);
    expect(result.err.trim().split("\n")).toHaveLength(1);
    expect(result.err).toMatch(
      /host lab1 is a localLab host and no booted lab host was found under .*empty-lab/,
    );
    const missing = await run([labPlaybook(), "--lab-state", path.join(tmp, "nowhere")], {
      env: {},
      cwd: tmp,
    });
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/--lab-state .*nowhere: no such directory/);
  });
});
