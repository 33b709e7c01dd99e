/**
 * What the reader makes of a topology file before cross-checks: the model's shape, but a field the
 * reader could not accept is left undefined (after reporting it), so the rules can still check
 * everything else. Every object keeps its path for messages.
 */
import type {
  HugepagesSpec,
  ImageSpec,
  LocalLabAccess,
  QemuSettings,
  RemoteAccess,
  SourceSpec,
} from "./model";

export interface Located {
  readonly name: string;
  readonly path: string;
}

export interface DraftNetmap {
  readonly source?: SourceSpec;
  readonly drivers: readonly string[];
  readonly driverVersions: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, number>>;
}

export interface DraftImage extends Located {
  readonly spec?: ImageSpec;
}

export interface DraftHostNic extends Located {
  readonly interface?: string;
  readonly driver?: string;
}

export interface DraftHost extends Located {
  readonly access?: RemoteAccess | LocalLabAccess;
  readonly managementInterface?: string;
  readonly nics: readonly DraftHostNic[];
  readonly hugepages?: HugepagesSpec;
  /** `hugepages:` is present, even if invalid (so VMs are not also blamed for it). */
  readonly hugepagesDeclared: boolean;
}

export interface DraftPort extends Located {
  readonly rings?: number;
  readonly slots?: number;
}

export interface DraftUplink {
  readonly nic: string;
  readonly path: string;
}

export interface DraftSwitch extends Located {
  readonly host?: string;
  readonly ports: readonly DraftPort[];
  readonly uplinks: readonly DraftUplink[];
  readonly hostStack: boolean;
}

export interface DraftPipe extends Located {
  readonly host?: string;
}

interface DraftNicCommon {
  /** Path of the list item, e.g. `vms.vm1.nics[0]`. */
  readonly path: string;
  readonly index: number;
  /** Normalized explicit MAC, when given and valid. */
  readonly mac?: string;
}

export type DraftVmNic = DraftNicCommon &
  (
    | { readonly kind: "vale"; readonly switch?: string; readonly port?: string }
    | {
        readonly kind: "pipe";
        readonly pipe?: string;
        readonly id?: number;
        readonly end?: "master" | "slave";
      }
    | { readonly kind: "nic"; readonly nic?: string }
  );

export interface DraftVm extends Located {
  readonly host?: string;
  readonly image?: string;
  readonly cpus?: number;
  readonly memoryMiB?: number;
  readonly pin?: readonly number[];
  /** Undefined when unreadable, so rules that depend on it stay quiet rather than guess. */
  readonly hugepages?: boolean;
  readonly trust?: "trusted" | "untrusted";
  readonly nics: readonly DraftVmNic[];
}

export interface DraftTopology {
  readonly name?: string;
  readonly netmap?: DraftNetmap;
  readonly qemu?: QemuSettings;
  readonly images: readonly DraftImage[];
  readonly hosts: readonly DraftHost[];
  readonly switches: readonly DraftSwitch[];
  readonly pipes: readonly DraftPipe[];
  readonly vms: readonly DraftVm[];
}
