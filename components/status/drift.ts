/**
 * Drift: the plan of a host against what status.sh read back from it. Pure; no I/O.
 *
 * Compared: netmap loaded and its parameters; each test NIC of a patched driver on that driver
 * with the driver using netmap; loaded netmap/driver modules against their files (srcversion);
 * the VALE listing against the switches' ports and uplinks; each VM running with exactly the
 * planner's argv; the QEMU build's prefix. Not compared (not observable or not drift): pipes
 * (they exist only while a VM holds them), netmap build stamps (the cache may be pruned),
 * hugepages.
 */
import { HOST_OPT_DIR, HOST_STATE_DIR, type HostPlan } from "../plan/types";
import type { DriftItem, ObservedHost, ObservedVm } from "./types";

/** The module a driver name builds: `virtio_net.c` → `virtio_net`, dashes → underscores. */
export function driverModuleName(driver: string): string {
  return driver.replace(/\.c$/, "").replace(/-/g, "_");
}

/** A sysfs parameter text against the topology's number (`Y`/`N` for booleans). */
export function paramMatches(actual: string, expected: number): boolean {
  const text = actual.trim();
  if (text === String(expected)) return true;
  if (/^-?\d+$/.test(text) && Number(text) === expected) return true;
  return (text === "Y" && expected === 1) || (text === "N" && expected === 0);
}

/**
 * The argv as the planner would have written it: the host's state/opt roots (when the script ran
 * with NMTB_STATE_DIR/NMTB_OPT_DIR elsewhere, as in tests) mapped back to the default ones.
 */
export function normalizeArgv(argv: readonly string[], observed: ObservedHost): string[] {
  const maps: [string, string][] = [];
  const add = (from: string, to: string): void => {
    const f = from.replace(/\/+$/, "");
    if (f !== "" && f !== to) maps.push([`${f}/`, `${to}/`]);
  };
  add(observed.paths.stateDir, HOST_STATE_DIR);
  add(observed.paths.optDir, HOST_OPT_DIR);
  return argv.map((arg) => maps.reduce((a, [from, to]) => a.split(from).join(to), arg));
}

function normalizePath(p: string, observed: ObservedHost): string {
  return normalizeArgv([p], observed)[0];
}

/** Where two argvs first differ, for a message: `argv[7]: "-m 2048M" ≠ "-m 1024M"`. */
export function firstArgvDifference(
  expected: readonly string[],
  actual: readonly string[],
): { index: number; expected: string | null; actual: string | null } | null {
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i += 1) {
    if (expected[i] !== actual[i]) {
      return { index: i, expected: expected[i] ?? null, actual: actual[i] ?? null };
    }
  }
  return null;
}

function item(
  kind: DriftItem["kind"],
  area: DriftItem["area"],
  subject: string,
  expected: string | null,
  actual: string | null,
  message: string,
): DriftItem {
  return { kind, area, subject, expected, actual, message };
}

function netmapDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  if (!observed.netmap.loaded) {
    return [
      item(
        "missing",
        "netmap",
        "module netmap",
        "loaded",
        "not loaded",
        "netmap is not loaded (deploy again, or run kernel-builds/netmap/load.sh)",
      ),
    ];
  }
  const drift: DriftItem[] = [];
  for (const [name, value] of Object.entries(plan.netmapLoad.moduleParams)) {
    const actual = observed.netmap.params[name];
    const subject = `netmap param ${name}`;
    if (actual === undefined) {
      drift.push(
        item(
          "missing",
          "param",
          subject,
          String(value),
          null,
          `netmap param ${name} is not in /sys/module/netmap/parameters (this netmap does not have it)`,
        ),
      );
    } else if (!paramMatches(actual, value)) {
      drift.push(
        item(
          "different",
          "param",
          subject,
          String(value),
          actual.trim(),
          `netmap param ${name} is ${actual.trim()}, the topology wants ${value} (netmap must be reloaded)`,
        ),
      );
    }
  }
  return drift;
}

function nicDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  const drift: DriftItem[] = [];
  for (const nic of plan.netmapLoad.patchedNics) {
    const module = driverModuleName(nic.driver);
    const subject = `NIC ${nic.name} (${nic.interface})`;
    const expected = `patched ${module}`;
    const iface = observed.interfaces.find((candidate) => candidate.name === nic.interface);
    if (!iface) {
      drift.push(
        item("missing", "nic", subject, expected, null, `NIC ${nic.interface} does not exist on the host`),
      );
      continue;
    }
    const now = iface.module ?? iface.driver;
    if (now !== module) {
      drift.push(
        item(
          "different",
          "nic",
          subject,
          expected,
          now ?? "no driver",
          `NIC ${nic.interface} is driven by ${now ?? "no driver"}, the topology wants the netmap-patched ${module}`,
        ),
      );
    } else if (!iface.usesNetmap) {
      drift.push(
        item(
          "different",
          "nic",
          subject,
          expected,
          `stock ${module}`,
          `NIC ${nic.interface} is on stock ${module} (the loaded ${module} does not use netmap)`,
        ),
      );
    }
  }
  return drift;
}

function moduleDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  const drift: DriftItem[] = [];
  const names = ["netmap", ...plan.netmapLoad.patchedDrivers.map(driverModuleName)];
  for (const name of names) {
    const module = observed.modules.find((candidate) => candidate.name === name);
    if (!module?.loaded || !module.file || !module.srcversion || !module.file.srcversion) continue;
    if (module.srcversion !== module.file.srcversion) {
      drift.push(
        item(
          "different",
          "module",
          `module ${name}`,
          `srcversion ${module.file.srcversion} (${module.file.path})`,
          `srcversion ${module.srcversion} (loaded)`,
          `the loaded ${name} is not the installed ${module.file.path} (srcversion ${module.srcversion} ≠ ${module.file.srcversion}): reload it`,
        ),
      );
    }
  }
  return drift;
}

/**
 * Every listing name the plan wants: persistent ports, the ports of the VMs in `runningVms` (all
 * VMs when not given: a VM's port exists only while its QEMU runs), uplinks, and uplinks' host
 * ports (`-h`).
 */
export function expectedValeNames(plan: HostPlan, runningVms?: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (const sw of plan.switches) {
    for (const port of sw.ports) {
      if (port.vm === undefined || !runningVms || runningVms.has(port.vm)) names.push(port.attachedName);
    }
    for (const uplink of sw.uplinks) {
      names.push(`${sw.name}:${uplink.interface}`);
      if (uplink.attachArgs[0] === "-h") names.push(`${sw.name}:${uplink.interface}^`);
    }
  }
  return names;
}

function valeDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  const running = new Set(observed.vms.filter((vm) => vm.processes.length > 0).map((vm) => vm.name));
  const expected = expectedValeNames(plan, running);
  const vmPorts = new Map(
    plan.switches.flatMap((sw) =>
      sw.ports.flatMap((port) => (port.vm ? [[port.attachedName, port.vm]] : [])),
    ),
  );
  const vale = observed.vale;
  if (!vale.available) {
    return expected.length === 0
      ? []
      : [
          item(
            "missing",
            "vale",
            "VALE listing",
            expected.join(", "),
            vale.error,
            `cannot list VALE ports: ${vale.error ?? "unknown error"}`,
          ),
        ];
  }
  const listed = new Set(vale.ports.map((port) => `${port.switch}:${port.port}`));
  const wanted = new Set(expected);
  const drift: DriftItem[] = [];
  for (const name of expected) {
    if (!listed.has(name)) {
      drift.push(
        item("missing", "vale", `VALE port ${name}`, "attached", null, `VALE port ${name} is missing`),
      );
    }
  }
  for (const port of vale.ports) {
    const name = `${port.switch}:${port.port}`;
    if (!wanted.has(name)) {
      const owner = vmPorts.get(name);
      drift.push(
        item(
          "extra",
          "vale",
          `VALE port ${name}`,
          null,
          `attached (bridge_idx ${port.bridgeIdx} port_idx ${port.portIdx})`,
          owner === undefined
            ? `extra VALE port ${name}: not in the topology`
            : `VALE port ${name} exists while VM ${owner} is not running: VM ${owner}'s QEMU cannot open it as its own (remove it: vale-ctl -d ${name} && vale-ctl -r ${port.port})`,
        ),
      );
    }
  }
  for (const anomaly of vale.anomalies) {
    drift.push(
      item(
        "different",
        "vale",
        `VALE port ${anomaly.name}`,
        anomaly.likelySwitch ? `${anomaly.likelySwitch}:${anomaly.name}` : "SWITCH:PORT",
        anomaly.line,
        anomaly.message,
      ),
    );
  }
  return drift;
}

function describeStopped(vm: ObservedVm | undefined): string {
  if (!vm) return "not running";
  if (vm.unit) return `not running (unit ${vm.unit}${vm.unitActive ? ` ${vm.unitActive}` : ""})`;
  return "not running";
}

function vmDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  const drift: DriftItem[] = [];
  for (const vm of plan.vms) {
    const seen = observed.vms.find((candidate) => candidate.name === vm.name);
    const subject = `VM ${vm.name}`;
    if (!seen || seen.processes.length === 0) {
      drift.push(
        item("missing", "vm", subject, "running", describeStopped(seen), `VM ${vm.name} is not running`),
      );
      continue;
    }
    if (seen.processes.length > 1) {
      const pids = seen.processes.map((p) => p.pid).join(", ");
      drift.push(
        item(
          "different",
          "vm",
          subject,
          "one QEMU process",
          `${seen.processes.length} QEMU processes (pids ${pids})`,
          `VM ${vm.name} runs ${seen.processes.length} times (pids ${pids})`,
        ),
      );
    }
    for (const process of seen.processes) {
      const argv = normalizeArgv(process.argv, observed);
      const diff = firstArgvDifference(vm.qemuArgs, argv);
      if (diff) {
        const show = (v: string | null): string => (v === null ? "(nothing)" : JSON.stringify(v));
        drift.push(
          item(
            "different",
            "vm",
            subject,
            `argv[${diff.index}] ${show(diff.expected)}`,
            `argv[${diff.index}] ${show(diff.actual)}`,
            `VM ${vm.name} (pid ${process.pid}) runs with a different argv: argv[${diff.index}] is ` +
              `${show(diff.actual)}, the plan has ${show(diff.expected)} (restart it to apply the topology)`,
          ),
        );
      }
    }
  }
  const planned = new Set(plan.vms.map((vm) => vm.name));
  for (const vm of observed.vms) {
    if (planned.has(vm.name)) continue;
    if (vm.processes.length > 0) {
      const pids = vm.processes.map((p) => p.pid).join(", ");
      drift.push(
        item(
          "extra",
          "vm",
          `VM ${vm.name}`,
          null,
          `running (pid ${pids})`,
          `VM ${vm.name} is running but not in the topology`,
        ),
      );
    } else if (vm.unit) {
      drift.push(
        item(
          "extra",
          "vm",
          `VM ${vm.name}`,
          null,
          `unit ${vm.unit} installed`,
          `VM ${vm.name} is not in the topology but its unit ${vm.unit} is still installed`,
        ),
      );
    }
  }
  return drift;
}

function qemuDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  const build = plan.qemuBuild;
  if (!build) return [];
  const subject = `QEMU build ${build.configKey}`;
  const found = observed.qemuPrefixes.find((p) => normalizePath(p.prefix, observed) === build.prefix);
  if (!found || !found.stamped || !found.executable) {
    const actual = !found || !found.exists ? "no such prefix" : !found.stamped ? "not stamped" : "no binary";
    return [
      item(
        "missing",
        "qemu",
        subject,
        `installed in ${build.prefix}`,
        actual,
        `the ptnet QEMU is not installed in ${build.prefix} (${actual})`,
      ),
    ];
  }
  if (found.configKey !== build.configKey) {
    return [
      item(
        "different",
        "qemu",
        subject,
        `config key ${build.configKey}`,
        `config key ${found.configKey ?? "none"}`,
        `${build.prefix} holds a QEMU built for another configuration (${found.configKey ?? "none"})`,
      ),
    ];
  }
  return [];
}

/** Everything that differs between the host's plan and what the host really has. */
export function computeDrift(plan: HostPlan, observed: ObservedHost): DriftItem[] {
  return [
    ...netmapDrift(plan, observed),
    ...nicDrift(plan, observed),
    ...moduleDrift(plan, observed),
    ...valeDrift(plan, observed),
    ...vmDrift(plan, observed),
    ...qemuDrift(plan, observed),
  ];
}
