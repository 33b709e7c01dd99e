/** report.md: what was measured, how it compares with line rate and the paper, and where it ran. */
import type { Manifest } from "./manifest";
import { PAPER_REFERENCES } from "./paper-reference";
import type { ResultsFile, SizeSummary } from "./results";

const f3 = (value: number): string => value.toFixed(3);

function sizeRow(s: SizeSummary): string {
  return (
    `| ${s.size} | ${f3(s.mpps.median)} | ${f3(s.mpps.min)} | ${f3(s.mpps.max)} | ${f3(s.mpps.stddev)} | ` +
    `${f3(s.gbps.median)} | ${f3(s.lineRateMpps)} | ${s.percentOfLineRate.toFixed(1)}% | ${s.repetitions} |`
  );
}

export interface ReportInput {
  readonly results: ResultsFile;
  readonly manifest: Manifest;
  /** Plot files in the results directory: the combined one first, then one per run. */
  readonly plots: readonly { readonly file: string; readonly title: string }[];
}

export function renderReport({ results, manifest, plots }: ReportInput): string {
  const lines: string[] = [];
  lines.push(`# ${results.playbook}: results`, "");
  lines.push(
    `- started ${results.startedAt}, finished ${results.finishedAt}${results.interrupted ? " — **interrupted (Ctrl-C): partial results**" : ""}`,
    `- playbook \`${manifest.playbook.file}\` (sha256 ${manifest.playbook.sha256.slice(0, 12)}…), topology \`${manifest.topology.file}\` (${manifest.topology.name}, sha256 ${manifest.topology.sha256.slice(0, 12)}…)`,
    `- netmap-testbed ${manifest.tool.version}${manifest.tool.gitCommit ? ` at ${manifest.tool.gitCommit.slice(0, 12)}${manifest.tool.gitDirty ? " (uncommitted changes)" : ""}` : ""}, pkt-gen \`${manifest.pktGen}\``,
    "",
  );
  lines.push(
    "Rates are what the **receiver** counted, per report interval, after the warm-up was discarded:",
    "median, min, max and standard deviation over all measured samples of all repetitions.",
    `Line rate is the theoretical ${results.lineRateGbps} GbE maximum for the size (frame + CRC + preamble + gap).`,
    "",
  );
  for (const plot of plots) lines.push(`![${plot.title}](${plot.file})`, "");
  for (const run of results.runs) {
    lines.push(`## ${run.name}`, "");
    lines.push(`${run.sender} → ${run.receiver} (\`${run.senderPort}\` → \`${run.receiverPort}\`)`, "");
    lines.push(
      `${run.repetitions} repetition(s) of ${run.duration} s after ${run.warmup} s warm-up, ${run.threads} thread(s)` +
        `${run.rate === undefined ? "" : `, sender limited to ${run.rate} pps`}.`,
      "",
    );
    const rows = results.summaries.filter((s) => s.run === run.name);
    if (rows.length === 0) {
      lines.push("_No measured samples._", "");
    } else {
      lines.push(
        "| size (B) | median Mpps | min | max | stddev | median Gbit/s | line rate Mpps | of line rate | reps |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows.map(sizeRow),
        "",
      );
    }
    if (run.paper) {
      const ref = PAPER_REFERENCES[run.paper];
      const at = rows.find((row) => row.size === ref.size);
      const measured = at ? `${f3(at.mpps.median)} Mpps measured` : "not measured";
      lines.push(
        `Paper reference at ${ref.size} B: ${ref.atLeast ? "more than " : ""}${ref.mpps} Mpps (${ref.label}); ${measured}.`,
        "",
      );
    }
    const problems = results.repetitions.filter((r) => r.run === run.name && r.status !== "ok");
    for (const p of problems)
      lines.push(
        `- size ${p.size} B, repetition ${p.repetition}: **${p.status}**${p.note ? ` — ${p.note}` : ""}`,
      );
    if (problems.length > 0) lines.push("");
  }
  lines.push("## Machines", "");
  lines.push("| machine | kernel | CPU | netmap | NICs |", "|---|---|---|---|---|");
  for (const m of manifest.machines) {
    const netmap = m.netmap.loaded
      ? `loaded${m.netmap.buildKey ? `, build ${m.netmap.buildKey}` : ""}`
      : "not loaded";
    const nics = m.nics
      .map((n) => `${n.interface}: ${n.ethtool.driver ?? "?"} ${n.ethtool.version ?? ""}`.trim())
      .join("; ");
    lines.push(
      `| ${m.name} (${m.kind}) | ${m.kernel ?? "?"} | ${m.cpuModel ?? "?"} | ${netmap} | ${nics || "—"} |`,
    );
  }
  lines.push("", "## Tuning", "");
  lines.push("| machine | setting | target | outcome | restored |", "|---|---|---|---|---|");
  for (const a of manifest.tuning.actions) {
    lines.push(
      `| ${a.machine} | ${a.setting} | ${a.target} | ${a.outcome}${a.message ? ` (${a.message})` : ""} | ${a.restored ?? "—"} |`,
    );
  }
  lines.push(
    "",
    "Every sample is in `results.json`; provenance (module parameters, firmware, build keys) in `manifest.json`.",
    "",
  );
  return lines.join("\n");
}
