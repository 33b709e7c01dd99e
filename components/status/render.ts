/** The status report of a testbed: per host what was observed and the drift, as text or JSON. */
import type { DriftItem, ObservedHost } from "./types";

/** One host's line in the report (`--json` prints these under `hosts`). */
export interface HostStatusReport {
  readonly name: string;
  /** An SSH connection was made (false also when the host was skipped, e.g. a lab host not booted). */
  readonly reachable: boolean;
  /** Why the host could not be read; absent when it was. */
  readonly error?: string;
  readonly observed: ObservedHost | null;
  readonly drift: readonly DriftItem[];
}

export interface StatusReportJson {
  readonly topology: string;
  readonly hosts: readonly HostStatusReport[];
}

/** A host is clean when it was read and nothing drifted. */
export function hostIsClean(report: HostStatusReport): boolean {
  return (
    report.reachable && report.error === undefined && report.observed !== null && report.drift.length === 0
  );
}

/** 0 when every host is clean, else 1. */
export function statusExitCode(reports: readonly HostStatusReport[]): 0 | 1 {
  return reports.every(hostIsClean) ? 0 : 1;
}

export function statusToJson(topology: string, reports: readonly HostStatusReport[]): StatusReportJson {
  return { topology, hosts: reports };
}

/** One line saying what is on the host. */
export function summarizeObserved(observed: ObservedHost): string {
  const parts: string[] = [`kernel ${observed.kernelRelease}`];
  if (observed.netmap.loaded) {
    const netmap = observed.modules.find((m) => m.name === "netmap");
    parts.push(`netmap loaded${netmap?.version ? ` (${netmap.version})` : ""}`);
  } else {
    parts.push("netmap not loaded");
  }
  const patched = observed.interfaces
    .filter((i) => i.usesNetmap)
    .map((i) => `${i.name}:${i.module ?? i.driver}`);
  if (patched.length > 0) parts.push(`patched NICs ${patched.join(", ")}`);
  if (observed.vale.available) {
    parts.push(`${observed.vale.ports.length} VALE port${observed.vale.ports.length === 1 ? "" : "s"}`);
  } else {
    parts.push("VALE listing unavailable");
  }
  const running = observed.vms.filter((vm) => vm.processes.length > 0).map((vm) => vm.name);
  parts.push(running.length > 0 ? `VMs running: ${running.join(", ")}` : "no VMs running");
  return parts.join("; ");
}

const KIND_WIDTH = "different".length;

function driftLine(item: DriftItem): string {
  const detail =
    item.kind === "extra"
      ? `host has ${item.actual ?? "it"}`
      : `want ${item.expected ?? "?"}, host has ${item.actual ?? "nothing"}`;
  return `  ${item.kind.padEnd(KIND_WIDTH)}  ${item.subject}: ${detail}`;
}

/** The human report: per host a headline, what is there, each drift item; then a summary. */
export function renderStatusText(reports: readonly HostStatusReport[]): string {
  const lines: string[] = [];
  let clean = 0;
  let drifted = 0;
  let unreadable = 0;
  for (const report of reports) {
    if (report.error !== undefined || report.observed === null) {
      unreadable += 1;
      const what = report.reachable ? "could not be read" : "unreachable";
      lines.push(`host ${report.name}: ${what}: ${report.error ?? "no status"}`);
      continue;
    }
    if (report.drift.length === 0) {
      clean += 1;
      lines.push(`host ${report.name}: no drift`);
    } else {
      drifted += 1;
      const n = report.drift.length;
      lines.push(`host ${report.name}: ${n} drift item${n === 1 ? "" : "s"}`);
    }
    lines.push(`  (${summarizeObserved(report.observed)})`);
    for (const item of report.drift) lines.push(driftLine(item));
  }
  const total = reports.length;
  lines.push(
    `${total} host${total === 1 ? "" : "s"}: ${clean} without drift, ${drifted} with drift, ${unreadable} unreachable or unreadable`,
  );
  return lines.join("\n");
}
