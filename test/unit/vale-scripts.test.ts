/**
 * Runs the real VALE host scripts (kernel-builds/vale/) against a fake vale-ctl that reproduces the
 * real one's observable behaviour (test/fixtures/fake-vale-ctl/), since this kernel cannot load netmap.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "../..");
const fakeValeCtl = path.join(root, "test/fixtures/fake-vale-ctl/vale-ctl");
const portScript = path.join(root, "kernel-builds/vale/vale-port.sh");
const uplinkScript = path.join(root, "kernel-builds/vale/vale-uplink.sh");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vale-scripts-"));
  env = {
    ...process.env,
    FAKE_VALE_STATE: path.join(dir, "fake"),
    FAKE_VALE_SYSFS: path.join(dir, "sys"),
    NMTB_SYS_CLASS_NET: path.join(dir, "sys"),
    NMTB_STATE_DIR: path.join(dir, "state"),
  };
  fs.mkdirSync(path.join(dir, "sys"));
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[]): Run {
  const r = spawnSync("bash", [script, ...args, "--vale-ctl", fakeValeCtl], { env, encoding: "utf8" });
  const lines = r.stdout.trim().split("\n");
  let json: Record<string, unknown> = {};
  if (r.status === 0) {
    expect(lines).toHaveLength(1);
    json = JSON.parse(lines[0]) as Record<string, unknown>;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Calls the fake directly, as something outside the scripts would. */
function valeCtl(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(fakeValeCtl, args, { env, encoding: "utf8" });
}

function calls(): string[] {
  const file = path.join(dir, "fake", "calls.log");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

const port = (action: string, ...extra: string[]): Run =>
  run(portScript, [action, "--switch", "vale0", "--port", "v0", ...extra]);

describe("vale-port.sh", () => {
  it("apply twice creates and attaches once, with -C tx_slots,rx_slots,tx_rings,rx_rings", () => {
    const first = port("apply", "--rings", "2", "--slots", "512");
    expect(first.status).toBe(0);
    expect(first.json).toMatchObject({
      action: "apply",
      name: "vale0:v0",
      attached: true,
      exists: true,
      changed: true,
      created: true,
      bridgeIdx: 0,
      portIdx: 0,
      managed: true,
    });
    const second = port("apply", "--rings", "2", "--slots", "512");
    expect(second.status).toBe(0);
    expect(second.json).toMatchObject({ changed: false, created: false, attached: true });
    const mutating = calls().filter((c) => /^-[narhd] /.test(c));
    expect(mutating).toEqual(["-n v0 -C 512,512,2,2", "-a vale0:v0"]);
    expect(fs.existsSync(path.join(dir, "sys", "v0"))).toBe(true);
  });

  it("never runs vale-ctl -g", () => {
    port("apply");
    port("status");
    port("remove");
    expect(calls().filter((c) => c.startsWith("-g"))).toEqual([]);
  });

  it("remove twice succeeds; the second does nothing", () => {
    expect(port("apply").status).toBe(0);
    const first = port("remove");
    expect(first.status).toBe(0);
    expect(first.json).toMatchObject({ detached: true, deleted: true, changed: true, attached: false });
    const second = port("remove");
    expect(second.status).toBe(0);
    expect(second.json).toMatchObject({ detached: false, deleted: false, changed: false, exists: false });
    expect(fs.existsSync(path.join(dir, "sys", "v0"))).toBe(false);
    expect(calls().filter((c) => /^-[dr] /.test(c))).toEqual(["-d vale0:v0", "-r v0"]);
  });

  it("remove tolerates a port that vanished behind its back", () => {
    expect(port("apply").status).toBe(0);
    expect(valeCtl("-d", "vale0:v0").status).toBe(0);
    expect(valeCtl("-r", "v0").status).toBe(0);
    const r = port("remove");
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ attached: false, exists: false });
  });

  it("apply re-attaches a port that was detached behind its back", () => {
    expect(port("apply").status).toBe(0);
    expect(valeCtl("-d", "vale0:v0").status).toBe(0);
    const r = port("apply");
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ attached: true, changed: true, created: false });
  });

  it("refuses a port attached to another switch", () => {
    expect(run(portScript, ["apply", "--switch", "vale1", "--port", "v0"]).status).toBe(0);
    const r = port("apply");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/port v0 is attached to vale1, not vale0/);
  });

  it("refuses to take over an interface it did not create", () => {
    fs.mkdirSync(path.join(dir, "sys", "v0"));
    fs.writeFileSync(path.join(dir, "sys", "v0", "nic"), "");
    const r = port("apply");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/interface named v0 exists and was not created by netmap-testbed/);
    expect(calls().filter((c) => /^-[narhd] /.test(c))).toEqual([]);
  });

  it("refuses to change rings/slots of an existing port", () => {
    expect(port("apply", "--rings", "2").status).toBe(0);
    const r = port("apply", "--rings", "4");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exists with \(rings=2 .*\), wanted \(rings=4 /);
  });

  it("passes -m for a shared memory region", () => {
    expect(port("apply", "--mem-id", "3").status).toBe(0);
    expect(calls()).toContain("-n v0 -m 3");
  });

  it("status: present only while the port exists and is attached to the given switch", () => {
    expect(port("status").json).toMatchObject({ present: false, exists: false });
    expect(port("apply").status).toBe(0);
    expect(port("status").json).toMatchObject({ present: true, exists: true, attached: true });
    // Attached elsewhere is not "as created".
    expect(run(portScript, ["status", "--switch", "vale1", "--port", "v0"]).json).toMatchObject({
      present: false,
      otherSwitch: "vale0",
    });
    // Detached behind our back: the netdev still exists, but the step's port is not there as created.
    expect(valeCtl("-d", "vale0:v0").status).toBe(0);
    expect(port("status").json).toMatchObject({ present: false, exists: true, attached: false });
    expect(port("apply").status).toBe(0);
    expect(port("remove").status).toBe(0);
    expect(port("status").json).toMatchObject({ present: false, exists: false });
    // Only status reports "present".
    expect(port("apply").json).not.toHaveProperty("present");
  });

  it("status reports the listing, also for an absent port", () => {
    expect(run(portScript, ["apply", "--switch", "vale0", "--port", "v1"]).status).toBe(0);
    const r = port("status");
    expect(r.status).toBe(0);
    expect(r.json).toEqual({
      action: "status",
      present: false,
      switch: "vale0",
      port: "v0",
      name: "vale0:v0",
      exists: false,
      attached: false,
      changed: false,
      bridgeIdx: null,
      portIdx: null,
      managed: false,
      corrupted: false,
      otherSwitch: null,
      switchPorts: [{ name: "vale0:v1", port: "v1", bridgeIdx: 0, portIdx: 0 }],
    });
  });

  it("reports a port corrupted by -g and refuses to touch it", () => {
    expect(port("apply").status).toBe(0);
    valeCtl("-g", "v0"); // what someone else might do by hand
    const s = port("status");
    expect(s.status).toBe(0);
    expect(s.json).toMatchObject({ corrupted: true, attached: false, exists: true, present: false });
    for (const action of ["apply", "remove"]) {
      const r = port(action);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/listed without its switch prefix: its netmap state is corrupted/);
    }
  });

  it("fails with vale-ctl's text when the listing fails (netmap not loaded)", () => {
    fs.mkdirSync(path.join(dir, "fake"), { recursive: true });
    fs.writeFileSync(path.join(dir, "fake", "unloaded"), "");
    const r = port("apply");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/vale-ctl listing failed \(exit 1\): \/dev\/netmap: No such file or directory/);
  });

  it("reads a port back as drift, not as a failure, when netmap is not loaded (refresh)", () => {
    expect(port("apply").status).toBe(0);
    fs.writeFileSync(path.join(dir, "fake", "unloaded"), "");
    const r = port("status");
    expect(r.status).toBe(0);
    expect(r.json).toEqual({
      action: "status",
      switch: "vale0",
      port: "v0",
      name: "vale0:v0",
      present: false,
      netmapLoaded: false,
    });
  });

  it("removes nothing, successfully, when netmap is not loaded (a reboot without the boot unit)", () => {
    expect(port("apply").status).toBe(0);
    fs.writeFileSync(path.join(dir, "fake", "unloaded"), "");
    const r = port("remove");
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ action: "remove", name: "vale0:v0", changed: false, netmapLoaded: false });
    expect(calls().filter((call) => / -[dr] /.test(` ${call} `))).toEqual([]);
  });

  it.each([
    [["--switch", "foo0", "--port", "v0"], /invalid VALE switch 'foo0'/],
    [["--switch", "vale0", "--port", "bad-name"], /invalid VALE port 'bad-name'/],
    [["--switch", "vale0", "--port", "p123456789012345"], /invalid VALE port/],
    [["--switch", "vale0123456789ab", "--port", "v0"], /invalid VALE switch/],
    [["--switch", "vale0", "--port", "v0", "--rings", "two"], /invalid --rings/],
    [["--switch", "vale0"], /--port is required/],
  ])("rejects bad arguments %j with exit 2", (args, message) => {
    const r = run(portScript, ["apply", ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(calls()).toEqual([]);
  });
});

describe("vale-uplink.sh", () => {
  const nic = (name: string): void => {
    fs.mkdirSync(path.join(dir, "sys", name));
    fs.writeFileSync(path.join(dir, "sys", name, "nic"), "");
  };
  const uplink = (action: string, ...extra: string[]): Run =>
    run(uplinkScript, [action, "--switch", "vale0", "--interface", "eth1", ...extra]);

  it("attaches once, detaches once", () => {
    nic("eth1");
    const a = uplink("attach");
    expect(a.status).toBe(0);
    expect(a.json).toMatchObject({ attached: true, hostStack: false, changed: true, name: "vale0:eth1" });
    expect(uplink("attach").json).toMatchObject({ attached: true, changed: false });
    const d = uplink("detach");
    expect(d.json).toMatchObject({ attached: false, changed: true });
    expect(uplink("detach").json).toMatchObject({ attached: false, changed: false });
    expect(calls().filter((c) => /^-[ahd] /.test(c))).toEqual(["-a vale0:eth1", "-d vale0:eth1"]);
  });

  it("detaches nothing, successfully, when netmap is not loaded", () => {
    nic("eth1");
    expect(uplink("attach").status).toBe(0);
    fs.mkdirSync(path.join(dir, "fake"), { recursive: true });
    fs.writeFileSync(path.join(dir, "fake", "unloaded"), "");
    const d = uplink("detach");
    expect(d.status).toBe(0);
    expect(d.json).toMatchObject({ action: "detach", changed: false, netmapLoaded: false });
    expect(calls().filter((c) => /^-d /.test(c))).toEqual([]);
  });

  it("uses -h with --host-stack and sees the host port", () => {
    nic("eth1");
    const a = uplink("attach", "--host-stack");
    expect(a.status).toBe(0);
    expect(a.json).toMatchObject({ attached: true, hostStack: true });
    expect(calls()).toContain("-h vale0:eth1");
    expect((a.json.switchPorts as { name: string }[]).map((p) => p.name)).toEqual([
      "vale0:eth1",
      "vale0:eth1^",
    ]);
    const mismatch = uplink("attach", "--host-stack", "0");
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/attached with host stack kept; detach it first/);
  });

  it("status: present while the interface is attached to the given switch", () => {
    nic("eth1");
    expect(uplink("status").json).toMatchObject({ action: "status", present: false, attached: false });
    expect(uplink("attach", "--host-stack").status).toBe(0);
    expect(uplink("status").json).toMatchObject({ present: true, attached: true, hostStack: true });
    expect(run(uplinkScript, ["status", "--switch", "vale1", "--interface", "eth1"]).json).toMatchObject({
      present: false,
      otherSwitch: "vale0",
    });
    expect(valeCtl("-d", "vale0:eth1").status).toBe(0);
    expect(uplink("status").json).toMatchObject({ present: false, attached: false });
    expect(uplink("attach").json).not.toHaveProperty("present");
  });

  it("fails clearly for a missing interface", () => {
    const r = uplink("attach");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no network interface named eth1/);
  });
});
