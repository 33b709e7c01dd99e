/** The shape of manifest.json: where the numbers come from. */
import type { TuningSpec } from "./model";
import type { MachineProvenance, ProjectProvenance } from "./provenance";
import type { TuningAction } from "./tuning";

export interface FileProvenance {
  readonly file: string;
  readonly name: string;
  readonly sha256: string;
}

export interface Manifest {
  /** netmap-testbed itself: version, git commit of this checkout, dirty flag. */
  readonly tool: ProjectProvenance;
  readonly runId: string;
  readonly playbook: FileProvenance;
  readonly topology: FileProvenance;
  /** The pkt-gen command run on the machines (`--pkt-gen`). */
  readonly pktGen: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly interrupted: boolean;
  /** The machine that ran the runner. */
  readonly controller: { readonly hostname: string; readonly node: string; readonly platform: string };
  readonly machines: readonly MachineProvenance[];
  readonly tuning: { readonly spec: TuningSpec; readonly actions: readonly TuningAction[] };
}
