import { check, HEADER, issues } from "../../test/support/playbook-test-fixtures";
import { PAPER_SIZES } from "./model";

const run = (body: string): string => `${HEADER}runs:\n  - name: r\n${body}`;
const VALE = `    sender: { valePort: "vale0:a" }\n    receiver: { valePort: "vale0:b" }\n`;

describe("checkPlaybook: a valid playbook", () => {
  it("applies every default and resolves the topology relative to the playbook", () => {
    const { model, issues: found } = check(run(VALE));
    expect(found).toEqual([]);
    expect(model).toMatchObject({
      name: "p",
      topologyFile: "/lab/t.yaml",
      lineRateGbps: 10,
      tuning: { flowControl: "off", offloads: "off", governor: "performance", pinning: true },
    });
    expect(model?.runs[0]).toEqual({
      name: "r",
      sender: { kind: "vale", switch: "vale0", port: "a" },
      receiver: { kind: "vale", switch: "vale0", port: "b" },
      sizes: PAPER_SIZES,
      duration: 10,
      warmup: 2,
      repetitions: 3,
      threads: 1,
      pin: {},
      reportIntervalMs: 1000,
    });
  });

  it("takes options from defaults, overridden per run; CPU lists as YAML lists or ranges", () => {
    const text =
      `${HEADER}defaults: { duration: 5, threads: 2, pin: { sender: "2-3", receiver: [4, 5] }, paper: vm-vm-vale }\n` +
      `runs:\n  - name: r\n${VALE}    duration: 7\n    rate: 1000000\n`;
    const { model, issues: found } = check(text);
    expect(found).toEqual([]);
    expect(model?.runs[0]).toMatchObject({
      duration: 7,
      threads: 2,
      rate: 1000000,
      pin: { sender: [2, 3], receiver: [4, 5] },
      paper: "vm-vm-vale",
    });
  });

  it("accepts every endpoint form that has a path", () => {
    const text =
      `${HEADER}runs:\n` +
      `  - name: pipe\n    sender: { pipe: chain0, id: 2, end: master }\n    receiver: { pipe: chain0, id: 2, end: slave }\n` +
      `  - name: vm-vale\n    sender: { vm: vm1, nic: 0 }\n    receiver: { valePort: "vale0:eph" }\n` +
      `  - name: vm-pipe\n    sender: { vm: vm1, nic: 1, interface: eth1 }\n    receiver: { pipe: chain0, id: 1, end: slave }\n` +
      `  - name: vm-nic\n    sender: { vm: vm1, nic: 2 }\n    receiver: { host: h1, nic: p0 }\n`;
    expect(issues(text)).toEqual([]);
  });
});

describe("checkPlaybook: every problem, with its position", () => {
  it("reports the document's shape: apiVersion, name, unknown and missing keys", () => {
    const text = `apiVersion: netmap-testbed/v1\nname: Bad_Name\ntopolgy: t.yaml\n`;
    expect(issues(text)).toEqual([
      `1:1: runs: the playbook needs "runs"; add runs: …`,
      `1:1: topology: the playbook needs "topology"; add topology: …`,
      `1:13: apiVersion: apiVersion "netmap-testbed/v1" is not supported (that is the topology schema); playbooks start with apiVersion: netmap-testbed/playbook-v1`,
      expect.stringMatching(/^2:7: name: topology name "Bad_Name"/),
      `3:1: topolgy: unknown key "topolgy" in the playbook (did you mean "topology"?); allowed keys: apiVersion, name, topology, runs, description, tuning, lineRateGbps, defaults`,
    ]);
  });

  it("reports an empty file and YAML syntax errors", () => {
    expect(issues("")).toEqual([
      "1:1: $: the file is empty; start it with apiVersion: netmap-testbed/playbook-v1 (see docs/playbooks.md)",
    ]);
    expect(issues(`${HEADER}runs: [\n`)[0]).toMatch(/^5:1: runs: YAML syntax error: /);
  });

  it("reports an unreadable or invalid topology at the topology key", () => {
    const missing = HEADER.replace("t.yaml", "nope.yaml") + `runs:\n  - name: r\n${VALE}`;
    expect(issues(missing)).toEqual([
      "3:11: topology: cannot read topology /lab/nope.yaml (ENOENT); the path is relative to the playbook",
    ]);
    const { issues: found } = check(run(VALE).replace("topology: t.yaml", "topology: t.yaml"));
    expect(found).toEqual([]);
  });

  it("reports bad tuning values", () => {
    const text = `${HEADER}tuning: { flowControl: no, governor: "Perf!", pinning: yes, irq: off }\nruns:\n  - name: r\n${VALE}`;
    expect(issues(text)).toEqual([
      '4:24: tuning.flowControl: flowControl must be off or keep, got "no"',
      `4:38: tuning.governor: governor "Perf!" is not a cpufreq governor name (e.g. performance, schedutil) or keep`,
      '4:56: tuning.pinning: expected pinning: true or false, got the string "yes"',
      expect.stringMatching(/^4:61: tuning.irq: unknown key "irq" in tuning/),
    ]);
  });

  it("reports endpoints of no form, of two forms, and malformed VALE port names", () => {
    const text = run(
      `    sender: { vm: vm1, valePort: "vale0:a", nic: 0 }\n    receiver: { port: x }\n` +
        `  - name: s\n    sender: { valePort: "vale0" }\n    receiver: { valePort: "sw:a" }\n`,
    );
    expect(issues(text)).toEqual([
      expect.stringMatching(/^6:24: runs\[0\].sender.valePort: sender is exactly one of \{ vm: NAME/),
      expect.stringMatching(/^7:15: runs\[0\].receiver: receiver needs one of \{ vm: NAME, nic: INDEX \}/),
      `9:25: runs[1].sender.valePort: valePort "vale0" must be SWITCH:PORT with exactly one ":", e.g. vale0:a`,
      expect.stringMatching(/^10:27: runs\[1\].receiver.valePort: switch name "sw" is not allowed/),
    ]);
  });

  it("resolves references: unknown names, NIC indexes, ports held by VMs, uplinks", () => {
    const text =
      `${HEADER}runs:\n` +
      `  - name: a\n    sender: { vm: vm2, nic: 0 }\n    receiver: { vm: vm1, nic: 3 }\n` +
      `  - name: b\n    sender: { valePort: "vale0:vm" }\n    receiver: { valePort: "vale9:a" }\n` +
      `  - name: c\n    sender: { pipe: chain0, id: 1, end: master }\n    receiver: { pipe: chain9, id: 1, end: slave }\n` +
      `  - name: d\n    sender: { host: h1, nic: p1 }\n    receiver: { host: h1, nic: p2 }\n` +
      `  - name: e\n    sender: { host: h2, nic: p0 }\n    receiver: { host: h1, nic: p7 }\n`;
    expect(issues(text)).toEqual([
      `6:13: runs[0].sender: VM "vm2" is not in the topology (did you mean "vm1"?); the topology has vm1`,
      "7:15: runs[0].receiver: VM vm1 has 3 NIC(s) (index 0 to 2), not NIC 3",
      expect.stringMatching(/^9:13: runs\[1\].sender: vale0:vm is the port of VM vm1 \(its QEMU holds it\)/),
      `10:15: runs[1].receiver: VALE switch "vale9" is not in the topology (did you mean "vale0"?); the topology has vale0, vale1`,
      expect.stringMatching(/^12:13: runs\[2\].sender: netmap:chain0\{1 is held by VM vm1/),
      `13:15: runs[2].receiver: pipe "chain9" is not in the topology (did you mean "chain0"?); the topology has chain0`,
      expect.stringMatching(/^15:13: runs\[3\].sender: h1 p1 is passed through to VM vm1/),
      expect.stringMatching(/^16:15: runs\[3\].receiver: h1 p2 is an uplink of VALE switch vale0/),
      `18:13: runs[4].sender: host "h2" is not in the topology (did you mean "h1"?); the topology has h1`,
      `19:15: runs[4].receiver: NIC of host h1 "p7" is not in the topology (did you mean "p0"?); the topology has p0, p1, p2`,
    ]);
  });

  it("checks that sender and receiver are connected", () => {
    const text =
      `${HEADER}runs:\n` +
      `  - name: a\n    sender: { valePort: "vale0:a" }\n    receiver: { valePort: "vale1:c" }\n` +
      `  - name: b\n    sender: { valePort: "vale0:a" }\n    receiver: { pipe: chain0, id: 2, end: slave }\n` +
      `  - name: c\n    sender: { pipe: chain0, id: 2, end: master }\n    receiver: { pipe: chain0, id: 3, end: slave }\n` +
      `  - name: d\n    sender: { valePort: "vale0:a" }\n    receiver: { valePort: "vale0:a" }\n`;
    expect(issues(text)).toEqual([
      "7:15: runs[0].receiver: sender is on VALE switch vale0 but receiver is on vale1; VALE switches are not connected to each other",
      expect.stringMatching(
        /^10:15: runs\[1\].receiver: vale0:a on h1 and netmap:chain0\}2 on h1 are not connected: one is on a VALE switch/,
      ),
      expect.stringMatching(
        /^13:15: runs\[2\].receiver: .* a pipe's traffic goes only to the other end of the same pipe id$/,
      ),
      "16:15: runs[3].receiver: sender and receiver are the same port (vale0:a on h1); pick two ports of the switch",
    ]);
  });

  it("checks sizes, numbers, names and the report interval", () => {
    const text =
      `${HEADER}runs:\n` +
      `  - name: r\n${VALE}    sizes: [60, 59, 1515, 60, "124"]\n    duration: 0\n    repetitions: 2.5\n` +
      `  - name: r\n${VALE}    sizes: []\n    duration: 1\n    reportInterval: 2000\n    paper: vm-vm\n`;
    expect(issues(text)).toEqual([
      "8:17: runs[0].sizes[1]: frame size in bytes without CRC must be an integer from 60 to 1514, got 59",
      "8:21: runs[0].sizes[2]: frame size in bytes without CRC must be an integer from 60 to 1514, got 1515",
      "8:27: runs[0].sizes[3]: size 60 is listed twice; each size is measured once per repetition",
      `8:31: runs[0].sizes[4]: expected frame size in bytes without CRC: an integer from 60 to 1514, got the string "124"; remove the quotes`,
      "9:15: runs[0].duration: duration (seconds measured per repetition) must be an integer from 1 to 86400, got 0",
      "10:18: runs[0].repetitions: expected repetitions: an integer from 1 to 1000, got the number 2.5",
      `11:11: runs[1].name: run name "r" is already used by runs[0]; names must be unique`,
      "14:12: runs[1].sizes: sizes is empty; list frame sizes in bytes, e.g. [60, 124, 252, 508, 1020, 1514]",
      "16:21: runs[1].reportInterval: duration 1 s is shorter than one report interval (2000 ms): no sample would be measured",
      `17:12: runs[1].paper: paper must be vm-nic or vm-vm-vale or vm-vm-pipe, got "vm-vm"`,
    ]);
  });

  it("checks CPU pins: one per thread, consecutive, not shared on one machine", () => {
    const text =
      `${HEADER}runs:\n` +
      `  - name: a\n${VALE}    threads: 2\n    pin: { sender: [1], receiver: [3, 5] }\n` +
      `  - name: b\n${VALE}    pin: { sender: "4", receiver: [4] }\n` +
      `  - name: c\n${VALE}    pin: { sender: "5-3", receiver: [] , cores: 1 }\n`;
    expect(issues(text)).toEqual([
      "9:20: runs[0].pin.sender: 1 CPU(s) for 2 thread(s); give one CPU per pkt-gen thread (threads: 2)",
      `9:35: runs[0].pin.receiver: pkt-gen pins thread i to CPU first+i (-a), so the CPUs must be consecutive; "3,5" is not`,
      "13:35: runs[1].pin.receiver: sender and receiver of run b run on the same machine and share CPU(s) 4; give each side its own CPUs",
      `17:20: runs[2].pin.sender: CPU range "5-3" runs backwards; write it as 3-5`,
      "17:37: runs[2].pin.receiver: the CPU list is empty; give one CPU per thread or leave pin out",
      expect.stringMatching(/^17:42: runs\[2\].pin.cores: unknown key "cores" in pin/),
    ]);
  });
});
