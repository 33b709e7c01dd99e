/**
 * `netmap-testbed status` on real hosts: network-namespace hosts with their own sshd (createNetnsLab),
 * reached through the real HostSession, running the real kernel-builds/host/status.sh piped to
 * `bash -s`. This kernel cannot load netmap, so each host's netmap side is a fake host tree
 * (test/support/status-fake-host-tree.ts: a fake sysfs, the state dirs, the fake vale-ctl, QEMU test
 * doubles running with the planner's argv) that the script is pointed at with NMTB_* variables.
 * Namespace hosts share this machine's filesystem: every host gets its own temporary tree.
 *
 * Also: status.sh on this machine's real /sys and /proc (no netmap here) reads without failing and
 * changes nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { statusCommand } from "../../components/cli/status-command";
import { HostSession } from "../../components/host";
import { planTestbed, type HostPlan, type TestbedPlan } from "../../components/plan";
import {
  computeDrift,
  readHostStatus,
  statusScriptPath,
  type HostStatusReport,
  type StatusReportJson,
} from "../../components/status";
import { FakeHostTree } from "../support/status-fake-host-tree";
import { statusTopologyYaml } from "../support/status-test-fixtures";
import { parseTopology } from "../../components/topology";
import { createNetnsLab, type NetnsLab } from "../fixtures/netns-hosts";
import { captureIo } from "../support/cli-capture";

describe("netmap-testbed status on namespace hosts", () => {
  let lab: NetnsLab;
  let dir: string;
  let trees: FakeHostTree[];
  let topologyFile: string;
  let keyFile: string;
  let plan: TestbedPlan;
  const hostNames = ["h0", "h1", "h2"]; // h2 sits on an address where nothing answers

  const env = (name: string): Record<string, string> | undefined => trees[hostNames.indexOf(name)]?.env;

  async function status(
    args: readonly string[],
  ): Promise<{ code: number; json: StatusReportJson; text: string; ms: number }> {
    const c = captureIo();
    const started = Date.now();
    const code = await statusCommand([topologyFile, "--identity", keyFile, "--json", ...args], c.io, {
      scriptEnv: env,
      env: {},
    });
    return { code, json: JSON.parse(c.out()) as StatusReportJson, text: c.err(), ms: Date.now() - started };
  }

  const host = (json: StatusReportJson, name: string): HostStatusReport => {
    const found = json.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no host ${name} in ${JSON.stringify(json.hosts.map((h) => h.name))}`);
    return found;
  };

  const hostPlan = (name: string): HostPlan => {
    const found = plan.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no plan for ${name}`);
    return found;
  };

  beforeAll(async () => {
    lab = await createNetnsLab({ hosts: 2, prefix: "stat" });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-status-it-"));
    // One identity for all hosts, as a user has: authorize host 0's client key on host 1 too.
    keyFile = path.join(dir, "id_ed25519");
    fs.writeFileSync(keyFile, lab.hosts[0].privateKey, { mode: 0o600 });
    for (const h of lab.hosts.slice(1)) {
      fs.appendFileSync(path.join(h.dir, "authorized_keys"), `\n${lab.hosts[0].publicKey}\n`);
    }
    const yaml = statusTopologyYaml([
      { name: "h0", address: lab.hosts[0].address, hostKey: lab.hosts[0].hostKey },
      { name: "h1", address: lab.hosts[1].address, hostKey: lab.hosts[1].hostKey },
      { name: "h2", address: lab.unusedAddress, hostKey: lab.hosts[0].hostKey },
    ]);
    topologyFile = path.join(dir, "status-it.yaml");
    fs.writeFileSync(topologyFile, yaml);
    plan = planTestbed(parseTopology(yaml, topologyFile));
    trees = hostNames.slice(0, 2).map((name) => new FakeHostTree(path.join(dir, name)));
    await Promise.all(trees.map((tree, i) => tree.deploy(plan.hosts[i])));
  });

  afterAll(async () => {
    for (const tree of trees ?? []) await tree.destroy();
    await lab?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("clean hosts: no drift and exit 0, one SSH connection per host", async () => {
    const accepted = (i: number): number =>
      (fs.readFileSync(lab.hosts[i].sshdLog, "utf8").match(/Accepted publickey/g) ?? []).length;
    const before = [accepted(0), accepted(1)];
    const r = await status(["--host", "h0", "--host", "h1"]);
    expect(r.json.hosts.map((h) => [h.name, h.reachable, h.error, h.drift])).toEqual([
      ["h0", true, undefined, []],
      ["h1", true, undefined, []],
    ]);
    expect(r.code).toBe(0);
    const h0 = host(r.json, "h0").observed;
    expect(h0?.netmap.params.buf_num).toBe("327680");
    expect(h0?.vale.ports.map((p) => `${p.switch}:${p.port}`).sort()).toEqual([
      "vale0:ens1f0",
      "vale0:ens1f0^",
      "vale0:vm10",
      "vale0:vm20",
    ]);
    expect(h0?.vms.map((vm) => [vm.name, vm.processes.length])).toEqual([
      ["vm10", 1],
      ["vm20", 1],
    ]);
    expect([accepted(0) - before[0], accepted(1) - before[1]]).toEqual([1, 1]);
  });

  it("reports drift: param mismatch, missing port, extra port, VM not running, VM with another argv", async () => {
    const tree = trees[1];
    const p = hostPlan("h1");
    tree.setParam("buf_num", "4096");
    tree.attach("vale1:x");
    await tree.stopVm("vm21");
    await tree.stopVm("vm11");
    await tree.startVm(p.vms[0], (argv) => argv.map((a) => (a === "512M" ? "1024M" : a)));
    // vm11 runs, but its port is gone (its QEMU made it as it started).
    tree.detach("vale1:vm11");
    try {
      const r = await status([]);
      expect(r.code).toBe(1);
      expect(host(r.json, "h0").drift).toEqual([]);
      const h1 = host(r.json, "h1");
      expect(h1.reachable).toBe(true);
      expect(h1.drift.map((d) => [d.kind, d.subject, d.expected, d.actual])).toEqual([
        ["different", "netmap param buf_num", "327680", "4096"],
        ["missing", "VALE port vale1:vm11", "attached", null],
        [
          "extra",
          "VALE port vale1:x",
          null,
          expect.stringMatching(/^attached \(bridge_idx \d+ port_idx \d+\)$/),
        ],
        ["different", "VM vm11", expect.stringContaining('"512M"'), expect.stringContaining('"1024M"')],
        ["missing", "VM vm21", "running", "not running"],
      ]);
      const h2 = host(r.json, "h2");
      expect(h2).toMatchObject({ reachable: false, observed: null, drift: [] });

      const text = captureIo();
      const code = await statusCommand([topologyFile, "--identity", keyFile, "--host", "h1"], text.io, {
        scriptEnv: env,
        env: {},
      });
      expect(code).toBe(1);
      expect(text.out()).toContain("host h1: 5 drift items");
      expect(text.out()).toContain("different  netmap param buf_num: want 327680, host has 4096");
      expect(text.out()).toContain("missing    VALE port vale1:vm11: want attached, host has nothing");
      expect(text.out()).toContain("extra      VALE port vale1:x: host has attached");
      expect(text.out()).toContain("missing    VM vm21: want running, host has not running");
    } finally {
      // Back to the deployed state for the other tests.
      tree.setParam("buf_num", "327680");
      tree.detach("vale1:x");
      tree.attach("vale1:vm11");
      await tree.stopVm("vm11");
      await tree.startVm(p.vms[0]);
      await tree.startVm(p.vms[1]);
    }
    expect((await status(["--host", "h1"])).code).toBe(0);
  });

  it("an unreachable host is reported (exit 1) within the connect timeout, the others still are", async () => {
    const r = await status(["--connect-timeout", "3"]);
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(10_000);
    expect(host(r.json, "h2")).toMatchObject({ reachable: false, observed: null, drift: [] });
    expect(host(r.json, "h2").error).toMatch(/host h2 \(root@[\d.]+:22\): unreachable/);
    expect(host(r.json, "h0")).toMatchObject({ reachable: true, drift: [] });
    expect(host(r.json, "h1")).toMatchObject({ reachable: true, drift: [] });
  });

  it("a wrong pinned host key is refused and reported for that host only", async () => {
    const yaml = fs
      .readFileSync(topologyFile, "utf8")
      .replace(`hostKey: "${lab.hosts[1].hostKey}"`, `hostKey: "${lab.hosts[0].hostKey}"`);
    const file = path.join(dir, "wrong-key.yaml");
    fs.writeFileSync(file, yaml);
    const c = captureIo();
    const code = await statusCommand(
      [file, "--identity", keyFile, "--json", "--host", "h0", "--host", "h1"],
      c.io,
      {
        scriptEnv: env,
        env: {},
      },
    );
    expect(code).toBe(1);
    const json = JSON.parse(c.out()) as StatusReportJson;
    expect(host(json, "h0").drift).toEqual([]);
    expect(host(json, "h1")).toMatchObject({ reachable: false });
    expect(host(json, "h1").error).toContain("host key mismatch");
  });

  describe("status.sh on this machine's real /sys and /proc (no netmap here)", () => {
    const realPlan = (): HostPlan => hostPlan("h0");
    const stateRoots = ["/var/lib/netmap-testbed", "/opt/netmap-testbed", "/var/cache/netmap-testbed"];
    const snapshot = (): string =>
      stateRoots
        .map(
          (root) =>
            spawnSync("bash", ["-c", 'test -e "$1" && find "$1" -printf "%p %s %T@\\n" | sort', "_", root], {
              encoding: "utf8",
            }).stdout || `${root} absent`,
        )
        .join("\n");

    it("over SSH (bash -s): exits 0, reads netmap as not loaded, changes nothing", async () => {
      const before = snapshot();
      const session = new HostSession({
        name: "h0",
        address: lab.hosts[0].address,
        hostKey: lab.hosts[0].hostKey,
        credentials: { privateKey: lab.hosts[0].privateKey },
      });
      try {
        const observed = await readHostStatus(session, realPlan());
        expect(observed.paths.stateDir).toBe("/var/lib/netmap-testbed");
        expect(observed.netmap.loaded).toBe(fs.existsSync("/sys/module/netmap/initstate"));
        expect(observed.kernelRelease).toBe(os.release());
        // The namespace host has its own interfaces (a veth to the lab bridge, lo).
        expect(observed.interfaces.map((i) => i.name)).toContain("lo");
        const drift = computeDrift(realPlan(), observed);
        if (!observed.netmap.loaded)
          expect(drift[0]).toMatchObject({ kind: "missing", subject: "module netmap" });
      } finally {
        await session.close();
      }
      expect(snapshot()).toEqual(before);
    });

    it("as a local file: exits 0 with one JSON line", () => {
      const r = spawnSync("bash", [statusScriptPath()], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split("\n")).toHaveLength(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ schema: "netmap-testbed/host-status/v1" });
    });
  });
});
