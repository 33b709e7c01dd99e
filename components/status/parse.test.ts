/**
 * parseHostStatus on what the real kernel-builds/host/status.sh prints, run locally against a fake
 * host tree (sysfs, state dirs, the fake vale-ctl, QEMU test doubles), and on broken input.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { computeDrift } from "./drift";
import { FAKE_KERNEL_RELEASE, FakeHostTree } from "../../test/support/status-fake-host-tree";
import { HostStatusParseError, observeVale, parseHostStatus } from "./parse";
import { statusScriptArgs, statusScriptPath } from "./read";
import { statusTestPlan } from "../../test/support/status-test-fixtures";

const plan = statusTestPlan();

function runStatus(env: Record<string, string>, args: string[] = statusScriptArgs(plan), viaStdin = true) {
  const script = statusScriptPath();
  const r = viaStdin
    ? spawnSync("bash", ["-s", "--", ...args], {
        input: fs.readFileSync(script),
        env: { ...process.env, ...env },
        encoding: "utf8",
      })
    : spawnSync("bash", [script, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("status.sh on a fake host tree, parsed", () => {
  let tree: FakeHostTree;

  beforeEach(() => {
    tree = new FakeHostTree(fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-status-unit-")));
  });
  afterEach(async () => {
    await tree.destroy();
  });

  it("reads a deployed host back completely and finds no drift", async () => {
    await tree.deploy(plan);
    const r = runStatus(tree.env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const observed = parseHostStatus(r.stdout);
    expect(observed.kernelRelease).toBe(FAKE_KERNEL_RELEASE);
    expect(observed.paths.stateDir).toBe(tree.stateDir);
    expect(observed.netmap).toMatchObject({
      loaded: true,
      holders: ["ixgbe"],
      params: { buf_num: "327680", ptnet_vnet_hdr: "0", max_bridges: "8" },
    });
    expect(observed.modules.map((m) => m.name)).toEqual(["netmap", "ixgbe"]);
    expect(observed.modules[1]).toMatchObject({ loaded: true, usesNetmap: true, srcversion: "FAKEIXGBE" });
    expect(observed.interfaces.find((i) => i.name === "ens1f0")).toMatchObject({
      driver: "ixgbe",
      module: "ixgbe",
      usesNetmap: true,
    });
    expect(observed.interfaces.find((i) => i.name === "eth0")).toMatchObject({
      driver: "virtio_net",
      module: null,
    });
    expect(observed.vale.available).toBe(true);
    expect(observed.vale.raw?.exitCode).toBe(1);
    expect(observed.vale.ports.map((p) => `${p.switch}:${p.port}`).sort()).toEqual(
      ["vale0:ens1f0", "vale0:ens1f0^", "vale0:vm10", "vale0:vm20"].sort(),
    );
    expect(observed.vms.map((vm) => vm.name).sort()).toEqual(["vm10", "vm20"]);
    for (const vm of observed.vms) {
      expect(vm.processes).toHaveLength(1);
      expect(vm.processes[0].interpreter.length).toBeGreaterThan(0); // the double is a python script
      expect(vm.processes[0].argv).toEqual(vm.recordedArgv);
    }
    expect(observed.netmapBuilds).toEqual([
      expect.objectContaining({ key: "0123456789abcdef", modules: ["ixgbe", "netmap"], current: true }),
    ]);
    expect(observed.qemuPrefixes).toEqual([
      expect.objectContaining({ stamped: true, executable: true, configKey: plan.qemuBuild?.configKey }),
    ]);
    expect(computeDrift(plan, observed)).toEqual([]);
  });

  it("sees drift made on the tree: param, missing and extra port, stopped VM, NIC back on stock", async () => {
    await tree.deploy(plan);
    tree.setParam("buf_num", "4096");
    tree.detach("vale0:vm10");
    tree.attach("vale0:x");
    await tree.stopVm("vm20");
    tree.unloadModule("ixgbe");
    tree.loadModule("ixgbe");
    const observed = parseHostStatus(runStatus(tree.env).stdout);
    expect(computeDrift(plan, observed).map((d) => `${d.kind} ${d.subject}`)).toEqual([
      "different netmap param buf_num",
      "different NIC p0 (ens1f0)",
      "missing VALE port vale0:vm10",
      "extra VALE port vale0:x",
      "missing VM vm20",
    ]);
  });

  it("runs the same as a file and through stdin (bash -s) and never reads its stdin", async () => {
    await tree.deploy(plan, { vms: false });
    const a = parseHostStatus(runStatus(tree.env, [], true).stdout);
    const b = parseHostStatus(runStatus(tree.env, [], false).stdout);
    expect(a).toEqual(b);
  });

  it("changes nothing in the tree and runs vale-ctl only for its listing", async () => {
    await tree.deploy(plan);
    // The fake vale-ctl's own bookkeeping (./vale) is not the host's state.
    const snapshot = (): string =>
      spawnSync(
        "bash",
        ["-c", 'cd "$1" && find . -path ./vale -prune -o -printf "%p %s %T@\\n" | sort', "_", tree.root],
        {
          encoding: "utf8",
        },
      ).stdout;
    const calls = (): string[] => fs.readFileSync(path.join(tree.valeState, "calls.log"), "utf8").split("\n");
    const before = snapshot();
    const callsBefore = calls();
    runStatus(tree.env);
    expect(snapshot()).toEqual(before);
    expect(calls()).toEqual([...callsBefore.slice(0, -1), "", ""]);
  });

  it("netmap not loaded: listing error from /dev/netmap means no ports, not an unknown listing", async () => {
    await tree.deploy(plan, { vms: false });
    tree.unloadModule("netmap");
    fs.writeFileSync(path.join(tree.valeState, "unloaded"), "");
    const observed = parseHostStatus(runStatus(tree.env).stdout);
    expect(observed.netmap.loaded).toBe(false);
    expect(observed.vale).toMatchObject({ available: true, ports: [] });
    const kinds = computeDrift(plan, observed).map((d) => `${d.kind} ${d.subject}`);
    expect(kinds[0]).toBe("missing module netmap");
    // The uplink is missing; the VMs' ports are not (no VM runs: their QEMUs would make them).
    expect(kinds).toContain("missing VALE port vale0:ens1f0");
    expect(kinds).not.toContain("missing VALE port vale0:vm10");
  });

  it("no vale-ctl anywhere: vale is null and the listing is reported unavailable", () => {
    const env = { ...tree.env, NMTB_VALE_CTL: "", PATH: "/usr/bin:/bin" };
    const observed = parseHostStatus(runStatus(env, ["--vale-ctl", path.join(tree.root, "none")]).stdout);
    expect(observed.vale).toMatchObject({ available: false, raw: null });
  });

  it("usage errors exit 2", () => {
    expect(runStatus(tree.env, ["--bogus"]).code).toBe(2);
    expect(runStatus(tree.env, ["--module", "a b"]).code).toBe(2);
    expect(runStatus(tree.env, ["--qemu-prefix", "relative"]).code).toBe(2);
    expect(runStatus(tree.env, ["--help"]).code).toBe(0);
  });
});

describe("parseHostStatus on broken input", () => {
  const good = (): Record<string, unknown> =>
    JSON.parse(runStatus({ NMTB_STATE_DIR: "/nonexistent-nmtb", NMTB_VALE_CTL: "" }, []).stdout) as Record<
      string,
      unknown
    >;

  it("takes the last non-empty line of stdout", () => {
    const line = JSON.stringify(good());
    expect(parseHostStatus(`noise\n${line}\n\n`).schema).toBe("netmap-testbed/host-status/v1");
  });

  it.each([
    ["", /printed nothing/],
    ["{not json", /not JSON/],
    [JSON.stringify({ schema: "other/v9" }), /\$\.schema: expected "netmap-testbed\/host-status\/v1"/],
  ])("refuses %j", (text, message) => {
    expect(() => parseHostStatus(text)).toThrow(HostStatusParseError);
    expect(() => parseHostStatus(text)).toThrow(message);
  });

  it("names the path of a field with the wrong type", () => {
    const doc = good();
    (doc.netmap as Record<string, unknown>).loaded = "yes";
    expect(() => parseHostStatus(JSON.stringify(doc))).toThrow("$.netmap.loaded: expected true or false");
    const doc2 = good();
    doc2.vms = [{ name: "a", dir: null, unit: null, unitActive: null, recordedArgv: null, processes: [{}] }];
    expect(() => parseHostStatus(JSON.stringify(doc2))).toThrow("$.vms[0].processes[0].pid");
  });

  it("observeVale: listing error with netmap loaded is unavailable, with its text", () => {
    const raw = {
      valeCtl: "/x/vale-ctl",
      stdout: "",
      stderr: "failed to list all: Bad address\n",
      exitCode: 1,
    };
    expect(observeVale(raw, true)).toMatchObject({
      available: false,
      error: expect.stringContaining("Bad address"),
    });
    const corrupted = {
      ...raw,
      stderr: "",
      stdout: "vale0:a bridge_idx 0 port_idx 0\nv0 bridge_idx 0 port_idx 1\n",
    };
    expect(observeVale(corrupted, true)).toMatchObject({
      available: true,
      ports: [{ switch: "vale0", port: "a" }],
      anomalies: [{ name: "v0", likelySwitch: "vale0" }],
    });
  });
});
