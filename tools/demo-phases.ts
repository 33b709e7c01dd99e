/**
 * The demo's phases, told from the Pulumi engine's events (`pulumi up --json`: after the preview's
 * document, one JSON engine event per line): which resources make up each phase, and how long each took on the
 * machine this was measured on, so a user sees where the time goes and what is still to come.
 */

export interface Phase {
  readonly name: string;
  /** Step resource types (the part after `netmap-testbed:`) and, optionally, name suffixes. */
  readonly matches: (type: string, name: string) => boolean;
  /** Measured on a 2-core machine without usable KVM (lab hosts under TCG), cold and warm. */
  readonly expected: string;
}

const kind =
  (...kinds: string[]) =>
  (type: string) =>
    kinds.includes(type);

/** In the order they start; the numbers are the runs' in docs/local-lab.md ("Timings"). */
export const DEMO_PHASES: readonly Phase[] = [
  { name: "lab image (debootstrap)", matches: kind("LabImage"), expected: "~90 s cold, instant cached" },
  { name: "lab host boot", matches: kind("LabHost"), expected: "~20-40 s" },
  {
    name: "netmap built here, in the lab image's root",
    matches: (type, name) => type === "NativeBuild" && name.endsWith("-native-netmap"),
    expected: "~65-105 s cold, ~1 s cached",
  },
  {
    name: "ptnet QEMU built here, in the lab image's root",
    matches: (type, name) => type === "NativeBuild" && name.endsWith("-native-qemu"),
    expected: "~3-4 min cold, ~1 s cached",
  },
  {
    name: "host scripts and source uploads",
    matches: kind("HostScripts", "SourceUpload"),
    expected: "a few s each",
  },
  {
    name: "netmap on the lab host (prepare, fetch, import, install, load)",
    matches: kind(
      "NetmapPrepare",
      "NetmapFetch",
      "NetmapBuild",
      "NetmapInstall",
      "NetmapLoad",
      "NetmapPersist",
    ),
    expected: "~2 min",
  },
  {
    name: "VALE switch ports and pipes",
    matches: kind("ValePort", "ValeUplink", "Hugepages"),
    expected: "~7 s",
  },
  { name: "ptnet QEMU imported on the lab host", matches: kind("QemuBuild"), expected: "~20 s" },
  {
    name: "guest image (the lab's own) packed here",
    matches: kind("GuestImagePack"),
    expected: "~1 min cold, instant cached",
  },
  {
    name: "guest image and its netmap uploaded to the lab host",
    matches: kind("GuestImageFetch", "GuestImageStore", "GuestNetmapUpload"),
    expected: "~2.5 min under TCG",
  },
  { name: "VM seeds written on the lab host", matches: kind("VmSeed"), expected: "~15 s" },
  {
    name: "VMs booted to SSH",
    matches: kind("Vm"),
    expected: "seconds under KVM, over 24 min each under TCG",
  },
];

/**
 * `pulumi up --json` prints its preview first, as one indented JSON document over many lines,
 * before the engine's events (one per line). This gathers that document from its lines so the
 * demo can say in one line what the preview plans instead of echoing it.
 */
export class IndentedJsonDocument {
  private lines: string[] | undefined;

  /**
   * Takes each line of the CLI's output: "none" for a line outside a document, "more" inside
   * one, and at its last line its text and, when it is JSON, the document.
   */
  accept(line: string): { text: string; document?: unknown } | "more" | "none" {
    if (this.lines === undefined) {
      if (line !== "{") return "none";
      this.lines = [line];
      return "more";
    }
    this.lines.push(line);
    if (line !== "}") return "more";
    const text = this.lines.join("\n");
    this.lines = undefined;
    try {
      return { text, document: JSON.parse(text) as unknown };
    } catch {
      return { text };
    }
  }
}

/** One line for a preview's document: what it would change, by operation. */
export function describePreview(document: unknown): string | undefined {
  if (typeof document !== "object" || document === null || !("changeSummary" in document)) return undefined;
  const summary = document.changeSummary;
  if (typeof summary !== "object" || summary === null) return undefined;
  const counts = Object.entries(summary).filter(
    (entry): entry is [string, number] => typeof entry[1] === "number" && entry[1] > 0,
  );
  return `preview: ${counts.map(([op, count]) => (op === "same" ? `${count} unchanged or left out` : `${count} to ${op}`)).join(", ") || "no resources"}`;
}

/** The fields of an engine event this reads. */
export interface EngineEventLine {
  readonly timestamp?: number;
  readonly resourcePreEvent?: { readonly metadata?: StepMetadata };
  readonly resOutputsEvent?: { readonly metadata?: StepMetadata };
  readonly resOpFailedEvent?: { readonly metadata?: StepMetadata };
  /** The engine's last event of an update. */
  readonly summaryEvent?: unknown;
}

interface StepMetadata {
  readonly op?: string;
  readonly urn?: string;
  readonly type?: string;
}

const STEP_TYPE = /^pulumi-nodejs:dynamic\/netmap-testbed:(.+)$/;

/**
 * Follows the events: says when a phase starts and when one of its steps fails, and at the end
 * (the engine's summary) how long each phase took, from its first step's start to its last
 * step's end. Phases overlap (the native builds run while the lab host boots), so a phase is
 * only known to be done at the end.
 */
export class PhaseTracker {
  private readonly spans = new Map<string, { first: number; last: number; failed: boolean }>();

  constructor(private readonly phases: readonly Phase[] = DEMO_PHASES) {}

  /** Lines to print for one event (none for most). */
  accept(event: EngineEventLine): string[] {
    const at = event.timestamp ?? 0;
    if (event.summaryEvent !== undefined) return this.summary();
    const pre = event.resourcePreEvent?.metadata;
    const done = event.resOutputsEvent?.metadata;
    const failed = event.resOpFailedEvent?.metadata;
    const metadata = pre ?? done ?? failed;
    if (!metadata?.urn || !metadata.type || metadata.op === "same" || metadata.op === "read") return [];
    const step = STEP_TYPE.exec(metadata.type);
    if (!step) return [];
    const name = metadata.urn.slice(metadata.urn.lastIndexOf("::") + 2);
    const phase = this.phases.find((candidate) => candidate.matches(step[1], name));
    if (!phase) return [];
    // A destroy runs the phases backwards: say so rather than "boot" for a shutdown.
    const removing = metadata.op === "delete" || metadata.op === "delete-replaced";
    const label = removing ? `removing: ${phase.name}` : phase.name;
    const span = this.spans.get(label);
    if (pre) {
      if (span) return [];
      this.spans.set(label, { first: at, last: at, failed: false });
      return [removing ? `▶ ${label}` : `▶ ${label} (expected ${phase.expected})`];
    }
    if (!span) return [];
    span.last = Math.max(span.last, at);
    if (!failed) return [];
    span.failed = true;
    return [`✗ ${label}: ${name} failed (the engine's error follows)`];
  }

  private summary(): string[] {
    return [...this.spans.entries()].map(([label, span]) =>
      span.failed ? `✗ ${label}: failed` : `✓ ${label}: ${span.last - span.first} s`,
    );
  }
}
