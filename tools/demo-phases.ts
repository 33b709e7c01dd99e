/**
 * The demo's phases, told from the Pulumi engine's event log (`pulumi up --event-log FILE`: one
 * JSON engine event per line): which resources make up each phase, and how long each took on the
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

/** In the order they start; the numbers are from the runs in docs/local-lab.md ("Timings"). */
export const DEMO_PHASES: readonly Phase[] = [
  { name: "lab image (debootstrap)", matches: kind("LabImage"), expected: "~90 s cold, instant cached" },
  { name: "lab host boot", matches: kind("LabHost"), expected: "~40 s" },
  {
    name: "netmap built here, in the lab image's root",
    matches: (type, name) => type === "NativeBuild" && name.endsWith("-native-netmap"),
    expected: "~100 s cold, ~15 s cached",
  },
  {
    name: "ptnet QEMU built here, in the lab image's root",
    matches: (type, name) => type === "NativeBuild" && name.endsWith("-native-qemu"),
    expected: "~6 min cold, ~15 s cached",
  },
  { name: "host scripts and source uploads", matches: kind("HostScripts", "SourceUpload"), expected: "~5 s" },
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
    expected: "~5 s",
  },
  { name: "ptnet QEMU imported on the lab host", matches: kind("QemuBuild"), expected: "~1 min" },
  { name: "guest image", matches: kind("GuestImageFetch"), expected: "depends on the download" },
  { name: "VMs (seed, boot to SSH)", matches: kind("VmSeed", "Vm"), expected: "minutes under TCG" },
];

/** The fields of an engine event this reads. */
export interface EngineEventLine {
  readonly timestamp?: number;
  readonly resourcePreEvent?: { readonly metadata?: StepMetadata };
  readonly resOutputsEvent?: { readonly metadata?: StepMetadata };
  readonly resOpFailedEvent?: { readonly metadata?: StepMetadata };
}

interface StepMetadata {
  readonly op?: string;
  readonly urn?: string;
  readonly type?: string;
}

const STEP_TYPE = /^pulumi-nodejs:dynamic\/netmap-testbed:(.+)$/;

/** Follows the events and says when a phase starts and when its last started step is done. */
export class PhaseTracker {
  private readonly running = new Map<string, Set<string>>();
  private readonly startedAt = new Map<string, number>();
  private readonly failed = new Set<string>();

  constructor(private readonly phases: readonly Phase[] = DEMO_PHASES) {}

  /** Lines to print for one event (none for most). */
  accept(event: EngineEventLine): string[] {
    const at = event.timestamp ?? 0;
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
    const steps = this.running.get(phase.name) ?? new Set<string>();
    this.running.set(phase.name, steps);
    if (pre) {
      const first = !this.startedAt.has(phase.name);
      if (first) this.startedAt.set(phase.name, at);
      steps.add(metadata.urn);
      return first ? [`▶ ${phase.name} (expected ${phase.expected})`] : [];
    }
    steps.delete(metadata.urn);
    if (failed) {
      this.failed.add(phase.name);
      return [`✗ ${phase.name}: ${name} failed (the engine's output above says why)`];
    }
    if (steps.size > 0 || this.failed.has(phase.name)) return [];
    const took = at - (this.startedAt.get(phase.name) ?? at);
    return [`✓ ${phase.name} (${took} s)`];
  }
}
