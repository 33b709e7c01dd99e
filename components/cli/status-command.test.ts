/**
 * `netmap-testbed status` without real hosts: arguments, stack → topology resolution, localLab
 * hosts (skipped with a message, or found through --lab-state), unreachable hosts reported per
 * host. The real thing over SSH is test/integration/status.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { statusTopologyYaml, TEST_HOST_KEY } from "../status/test-fixtures";
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
    [["missing.yaml"], /missing.yaml: no such topology file/],
    [["nosuchstack"], /neither a topology file nor a stack/],
  ])("%j → exit 2", async (args, message) => {
    const c = captureIo();
    expect(await statusCommand(args, c.io, { cwd: dir, env: {} })).toBe(2);
    expect(c.err()).toMatch(message);
    expect(c.err()).toContain("usage: netmap-testbed status");
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

  it("an unreadable --identity is a usage error", async () => {
    const file = write("t.yaml", LAB_TOPOLOGY);
    const c = captureIo();
    expect(await statusCommand([file, "--identity", path.join(dir, "nokey")], c.io, { env: {} })).toBe(2);
    expect(c.err()).toMatch(/--identity .*nokey: cannot read: ENOENT/);
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

  it("a stack without netmap-testbed:topology is a usage error", async () => {
    write("proj/Pulumi.yaml", "name: p\nstackConfigDir: stacks\n");
    write("proj/stacks/Pulumi.demo.yaml", "config:\n  other: 1\n");
    const c = captureIo();
    expect(await statusCommand(["demo"], c.io, { cwd: path.join(dir, "proj"), env: {} })).toBe(2);
    expect(c.err()).toContain("no netmap-testbed:topology");
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
  it("without credentials every host is reported, none is contacted", async () => {
    const file = write(
      "t.yaml",
      statusTopologyYaml([
        { name: "h1", address: "192.0.2.11", hostKey: TEST_HOST_KEY },
        { name: "h2", address: "192.0.2.12", hostKey: TEST_HOST_KEY },
      ]),
    );
    const c = captureIo();
    expect(await statusCommand([file], c.io, { env: {} })).toBe(1);
    expect(c.out()).toContain("host h1: unreachable: host h1: no SSH credentials: pass --identity FILE");
    expect(c.out()).toContain("host h2: unreachable");
    expect(c.out()).toContain("2 hosts: 0 without drift, 0 with drift, 2 unreachable or unreadable");
  });

  it("--host selects hosts", async () => {
    const file = write(
      "t.yaml",
      statusTopologyYaml([
        { name: "h1", address: "192.0.2.11", hostKey: TEST_HOST_KEY },
        { name: "h2", address: "192.0.2.12", hostKey: TEST_HOST_KEY },
      ]),
    );
    const c = captureIo();
    expect(await statusCommand([file, "--json", "--host=h2"], c.io, { env: {} })).toBe(1);
    expect((JSON.parse(c.out()) as { hosts: { name: string }[] }).hosts.map((h) => h.name)).toEqual(["h2"]);
  });
});
