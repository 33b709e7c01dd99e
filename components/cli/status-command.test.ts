/**
 * `netmap-testbed status` without real hosts: arguments, stack → topology resolution, localLab
 * hosts (skipped with a message, or found through --lab-state), unreachable hosts reported per
 * host. The real thing over SSH is test/integration/status.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { statusTopologyYaml, TEST_HOST_KEY } from "../../test/support/status-test-fixtures";
import { statusCommand } from "./status-command";
import { captureIo } from "../../test/support/cli-capture";

const LAB_TOPOLOGY = `apiVersion: netmap-testbed/v1
name: lab-only
netmap:
  source: { hostPath: /srv/netmap.tar.gz }
  drivers: []
hosts:
  lab1:
    localLab: { cpus: 2, memory: 2GiB, disk: 8GiB }
    managementInterface: eth0
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-status-cli-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe("status: arguments", () => {
  it.each([
    [[], /give a topology file or a stack/],
    [["a.yaml", "b.yaml"], /give one topology or stack/],
    [["--bogus", "x"], /unknown option --bogus/],
    [["x.yaml", "--identity"], /--identity needs a value/],
    [["x.yaml", "--connect-timeout", "0"], /--connect-timeout 0/],
  ])("%j → exit 2, one line", async (args, message) => {
    const c = captureIo();
    expect(await statusCommand(args, c.io, { cwd: dir, env: {} })).toBe(2);
    expect(c.err()).toMatch(message);
    expect(c.err()).toContain("usage: netmap-testbed status");
    expect(c.err().split("\n")).toHaveLength(1);
  });

  // Files and stacks that are not there are invalid input (exit 1), said in one line with the fix.
  it.each([
    [["missing.yaml"], /^missing.yaml: no such file \(give a topology file, or the name of a stack/],
    [["stacks/x.yaml"], /^stacks\/x.yaml: no such file \(give a topology file/],
    [
      ["nosuchstack"],
      /^nosuchstack: not a file, and as a stack: no Pulumi project: no Pulumi.yaml in .* or above; run this in your Pulumi project's directory/,
    ],
  ])("%j → exit 1, one line with the fix", async (args, message) => {
    const c = captureIo();
    expect(await statusCommand(args, c.io, { cwd: dir, env: {} })).toBe(1);
    expect(c.err()).toMatch(message);
    expect(c.err().split("\n")).toHaveLength(1);
  });

  it("a directory or a binary file is refused in one line, without its bytes", async () => {
    write("sub/keep", "");
    const binary = write("image.yaml", "");
    fs.writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0xff, 0xfe]));
    for (const [target, message] of [
      [path.join(dir, "sub"), `${path.join(dir, "sub")}: is a directory (give a topology file`],
      [binary, `${binary}: not a text file (binary or not UTF-8)`],
    ]) {
      const c = captureIo();
      expect(await statusCommand([target], c.io, { cwd: dir, env: {} })).toBe(1);
      expect(c.err()).toContain(message);
      expect(c.err()).not.toMatch(/EISDIR|ENOENT|ELF/);
      expect(c.err().split("\n")).toHaveLength(1);
    }
  });

  it("a playbook given as the topology points at run --check", async () => {
    const file = write(
      "p.yaml",
      "apiVersion: netmap-testbed/playbook-v1\nname: p\ntopology: t.yaml\nruns: []\n",
    );
    const c = captureIo();
    expect(await statusCommand([file], c.io, { cwd: dir, env: {} })).toBe(1);
    expect(c.err()).toBe(
      `${file}: this is a playbook, not a topology; check it with: netmap-testbed run ${file} --check`,
    );
  });

  it("a --lab-state that does not exist is refused before anything else", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(await statusCommand([file, "--lab-state", path.join(dir, "nolab")], c.io, { env: {} })).toBe(1);
    expect(c.err()).toMatch(/--lab-state .*nolab: no such directory \(give the lab root/);
  });

  it("--help prints the usage and exits 0", async () => {
    const c = captureIo();
    expect(await statusCommand(["--help"], c.io)).toBe(0);
    expect(c.out()).toContain("--lab-state DIR");
  });

  it("an unknown --host is a usage error naming the hosts", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(await statusCommand([file, "--host", "nope"], c.io, { env: {} })).toBe(2);
    expect(c.err()).toContain("no host nope");
    expect(c.err()).toContain("hosts: lab1");
  });

  it("an unreadable --identity is invalid input, said with the fix", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(await statusCommand([file, "--identity", path.join(dir, "nokey")], c.io, { env: {} })).toBe(1);
    expect(c.err()).toMatch(/--identity .*nokey: no such file \(give --identity an SSH private key file\)$/);
    expect(c.err()).not.toContain("ENOENT");
  });

  it("an invalid topology exits 1 with its problems", async () => {
    const file = write("bad.yaml", "apiVersion: netmap-testbed/v1\nname: x\n");
    const c = captureIo();
    expect(await statusCommand([file], c.io, { env: {} })).toBe(1);
    expect(c.err()).toContain("bad.yaml:");
  });
});

describe("status: localLab hosts", () => {
  it("skips a lab host with a clear message when neither --lab-state nor a stack is given (exit 1)", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(await statusCommand([file, "--json"], c.io, { env: {} })).toBe(1);
    const json = JSON.parse(c.out()) as {
      topology: string;
      hosts: { name: string; reachable: boolean; error: string }[];
    };
    expect(json.topology).toBe("lab-only");
    expect(json.hosts).toEqual([
      expect.objectContaining({ name: "lab1", reachable: false, observed: null, drift: [] }),
    ]);
    expect(json.hosts[0].error).toMatch(/localLab host.*--lab-state DIR/);
  });

  it("resolves a stack to its topology and looks for STACK-HOST under the default lab root", async () => {
    write("proj/Pulumi.yaml", "name: p\nruntime: nodejs\nstackConfigDir: stacks\n");
    write("proj/stacks/Pulumi.demo.yaml", "config:\n  netmap-testbed:topology: topologies/lab.yaml\n");
    write("proj/topologies/lab.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    const code = await statusCommand(["demo"], c.io, {
      cwd: path.join(dir, "proj", "stacks"),
      env: {},
      home: dir,
    });
    expect(code).toBe(1);
    expect(c.out()).toContain(
      `no booted lab host was found under ${path.join(dir, ".cache/netmap-testbed/lab")}`,
    );
    expect(c.out()).toContain("demo-lab1/");
  });

  it("a stack without netmap-testbed:topology is invalid input, said with the setting to add", async () => {
    write("proj/Pulumi.yaml", "name: p\nstackConfigDir: stacks\n");
    write("proj/stacks/Pulumi.demo.yaml", "config:\n  other: 1\n");
    const c = captureIo();
    expect(await statusCommand(["demo"], c.io, { cwd: path.join(dir, "proj"), env: {} })).toBe(1);
    expect(c.err()).toContain("no netmap-testbed:topology or p:topology in its config");
    expect(c.err()).toContain("pulumi config set --stack demo netmap-testbed:topology PATH");
  });

  it("reads the stack of the user's project (its own name as the config namespace), not this package's", async () => {
    write("proj/Pulumi.yaml", "name: mylab\nruntime: nodejs\n");
    write("proj/Pulumi.dev.yaml", "config:\n  mylab:topology: lab.yaml\n");
    write("proj/lab.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(
      await statusCommand(["dev", "--json"], c.io, { cwd: path.join(dir, "proj"), env: {}, home: dir }),
    ).toBe(1);
    expect((JSON.parse(c.out()) as { topology: string }).topology).toBe("lab-only");
    // "lab" is a stack of this repository's own project, but not of the user's.
    const other = captureIo();
    expect(await statusCommand(["lab"], other.io, { cwd: path.join(dir, "proj"), env: {} })).toBe(1);
    expect(other.err()).toMatch(
      /no stack "lab" in the Pulumi project .*proj \(no Pulumi.lab.yaml\); create it with "pulumi stack init lab"/,
    );
  });

  it("a stack whose topology file is missing says which setting names it", async () => {
    write("proj/Pulumi.yaml", "name: p\nstackConfigDir: stacks\n");
    write("proj/stacks/Pulumi.demo.yaml", "config:\n  netmap-testbed:topology: gone.yaml\n");
    const c = captureIo();
    expect(await statusCommand(["demo"], c.io, { cwd: path.join(dir, "proj"), env: {} })).toBe(1);
    expect(c.err()).toBe(
      `${path.join(dir, "proj/gone.yaml")}: no such file (the topology of stack demo; fix its netmap-testbed:topology setting)`,
    );
  });

  it("uses host.json from --lab-state (port, pinned key, the lab's own client key) and reports it unreachable", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const stateDir = path.join(dir, "lab", "demo-lab1");
    write(
      "lab/demo-lab1/host.json",
      JSON.stringify({
        name: "demo-lab1",
        sshPort: 1,
        address: "127.0.0.1",
        user: "root",
        hostKey: TEST_HOST_KEY,
        privateKeyPath: path.join(stateDir, "id_ed25519"),
      }),
    );
    write("lab/demo-lab1/id_ed25519", "not a key");
    for (const labState of [path.join(dir, "lab"), stateDir]) {
      const c = captureIo();
      const started = Date.now();
      expect(
        await statusCommand([file, "--lab-state", labState, "--connect-timeout", "3"], c.io, { env: {} }),
      ).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(c.out()).toMatch(/host lab1: unreachable: host lab1 \(root@127\.0\.0\.1:1\)/);
    }
  });
});

describe("status: remote hosts", () => {
  it("without credentials it says so with the fix (not unreachable) and contacts no host", async () => {
    const file = write(
      "t.yaml",
      statusTopologyYaml([
        { name: "h1", address: "192.0.2.11", hostKey: TEST_HOST_KEY },
        { name: "h2", address: "192.0.2.12", hostKey: TEST_HOST_KEY },
      ]),
    );
    const c = captureIo();
    const started = Date.now();
    expect(await statusCommand([file], c.io, { env: {} })).toBe(2);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(c.out()).toBe("");
    expect(c.err()).toBe(
      "netmap-testbed status: no SSH credentials for hosts h1, h2: give --identity FILE (a private key the hosts accept), or start an ssh-agent holding it and export SSH_AUTH_SOCK",
    );
    expect(c.err()).not.toContain("unreachable");
  });

  it("a stale SSH_AUTH_SOCK counts as no agent, and the message says so", async () => {
    const file = write(
      "t.yaml",
      statusTopologyYaml([{ name: "h1", address: "192.0.2.11", hostKey: TEST_HOST_KEY }]),
    );
    const c = captureIo();
    const stale = path.join(dir, "agent.gone");
    expect(await statusCommand([file], c.io, { env: { SSH_AUTH_SOCK: stale } })).toBe(2);
    expect(c.err()).toContain(`no SSH credentials for host h1:`);
    expect(c.err()).toContain(`(SSH_AUTH_SOCK=${stale} is not a socket (a stale agent?))`);
  });

  it("--host selects hosts", async () => {
    // Port 1 on the loopback refuses at once: each selected host is contacted and reported unreachable.
    const file = write(
      "t.yaml",
      statusTopologyYaml([
        { name: "h1", address: "127.0.0.1", port: 1, hostKey: TEST_HOST_KEY },
        { name: "h2", address: "127.0.0.1", port: 1, hostKey: TEST_HOST_KEY },
      ]),
    );
    const key = write("id", "not a key, never used: the connection is refused first");
    const c = captureIo();
    expect(
      await statusCommand([file, "--json", "--host=h2", "--identity", key, "--connect-timeout", "2"], c.io, {
        env: {},
      }),
    ).toBe(1);
    expect((JSON.parse(c.out()) as { hosts: { name: string }[] }).hosts.map((h) => h.name)).toEqual(["h2"]);
  });
});
