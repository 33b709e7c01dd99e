/**
 * Provenance of a measurement (manifest.json): this checkout (version, git commit), the files
 * (sha256), and per machine what shaped the numbers: kernel, CPU, netmap build and module
 * parameters, NIC drivers and firmware, QEMU build. Missing pieces are recorded as absent, never
 * fatal: a host without netmap-testbed's state still gets measured.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { HOST_OPT_DIR, HOST_STATE_DIR } from "../plan/types";
import { packageRoot } from "../pulumi/package-root";
import type { Machine } from "./machines";

/** Collects everything in one round trip; sections are `@@NAME [ARG]` lines followed by their text. */
export const PROVENANCE_SCRIPT = `
section() { printf '@@%s\\n' "$*"; }
section kernel; uname -r
section os; ( . /etc/os-release 2>/dev/null && printf '%s\\n' "$PRETTY_NAME" )
section cpu; sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1
section cpus; getconf _NPROCESSORS_ONLN 2>/dev/null
for f in ${HOST_STATE_DIR}/netmap/*; do
  [ -f "$f" ] && { section netmap-state "\${f##*/}"; head -c 4096 "$f"; echo; }
done
bd=$(cat "${HOST_STATE_DIR}/netmap/build-dir.$(uname -r)" 2>/dev/null)
[ -n "$bd" ] && { section netmap-build-dir; printf '%s\\n' "$bd"; }
[ -n "$bd" ] && [ -f "$bd/.nmtb-built" ] && { section netmap-build-stamp; head -c 4096 "$bd/.nmtb-built"; echo; }
if [ -d /sys/module/netmap ]; then
  section netmap-loaded; cat /sys/module/netmap/version 2>/dev/null; echo
  for p in /sys/module/netmap/parameters/*; do [ -r "$p" ] && { section netmap-param "\${p##*/}"; cat "$p"; }; done
fi
for s in ${HOST_OPT_DIR}/qemu/*/.netmap-testbed-stamp; do [ -f "$s" ] && { section qemu-stamp "$s"; cat "$s"; }; done
for i in "$@"; do
  section ethtool-i "$i"; ethtool -i "$i" 2>&1
  d=/sys/class/net/$i/device
  if [ -e "$d" ]; then
    section nic-pci "$i"; cat "$d/vendor" "$d/device" 2>/dev/null
    command -v lspci >/dev/null 2>&1 && lspci -s "$(basename "$(readlink -f "$d")")" 2>/dev/null
  fi
done
true
`;

export interface NicProvenance {
  readonly interface: string;
  /** `ethtool -i` fields: driver, version, firmware-version, bus-info, … */
  readonly ethtool: Record<string, string>;
  /** PCI vendor/device ids and lspci's description, when the NIC is a PCI device. */
  readonly pci?: string;
}

export interface MachineProvenance {
  readonly name: string;
  readonly kind: "host" | "vm";
  readonly kernel?: string;
  readonly os?: string;
  readonly cpuModel?: string;
  readonly cpus?: number;
  readonly netmap: {
    readonly loaded: boolean;
    readonly version?: string;
    /** /sys/module/netmap/parameters/* */
    readonly params: Record<string, string>;
    /** Files under /var/lib/netmap-testbed/netmap (build.args, load.args, commit, …). */
    readonly state: Record<string, string>;
    /** The build directory's name: netmap-testbed's build key. */
    readonly buildKey?: string;
    readonly buildStamp?: string;
  };
  /** QEMU build stamps (`key`, commit, source lines) by path. */
  readonly qemu: Record<string, string>;
  readonly nics: readonly NicProvenance[];
  /** Set when the machine could not be asked. */
  readonly error?: string;
}

/** Splits the script's output into (section, argument, text) triples. */
export function parseSections(text: string): { name: string; arg: string; body: string }[] {
  const out: { name: string; arg: string; body: string }[] = [];
  let current: { name: string; arg: string; lines: string[] } | undefined;
  const flush = (): void => {
    if (current) out.push({ name: current.name, arg: current.arg, body: current.lines.join("\n").trim() });
  };
  for (const line of text.split("\n")) {
    const m = /^@@(\S+)(?: (.*))?$/.exec(line);
    if (m) {
      flush();
      current = { name: m[1], arg: m[2] ?? "", lines: [] };
    } else {
      current?.lines.push(line);
    }
  }
  flush();
  return out;
}

export function parseProvenance(name: string, kind: "host" | "vm", text: string): MachineProvenance {
  const sections = parseSections(text);
  const one = (section: string): string | undefined => {
    const body = sections.find((s) => s.name === section)?.body;
    return body === undefined || body === "" ? undefined : body;
  };
  const params: Record<string, string> = {};
  const state: Record<string, string> = {};
  const qemu: Record<string, string> = {};
  const nics = new Map<string, { ethtool: Record<string, string>; pci?: string }>();
  for (const s of sections) {
    if (s.name === "netmap-param") params[s.arg] = s.body;
    if (s.name === "netmap-state") state[s.arg] = s.body;
    if (s.name === "qemu-stamp") qemu[s.arg] = s.body;
    if (s.name === "ethtool-i") {
      const fields: Record<string, string> = {};
      for (const line of s.body.split("\n")) {
        const m = /^([a-z-]+):\s*(.*)$/.exec(line.trim());
        if (m) fields[m[1]] = m[2];
      }
      if (Object.keys(fields).length === 0) fields.error = s.body.split("\n")[0] ?? "";
      nics.set(s.arg, { ...nics.get(s.arg), ethtool: fields });
    }
    if (s.name === "nic-pci") {
      const entry = nics.get(s.arg) ?? { ethtool: {} };
      nics.set(s.arg, { ...entry, pci: s.body.replace(/\n/g, " ") });
    }
  }
  const cpus = Number(one("cpus"));
  const buildDir = one("netmap-build-dir");
  const buildStamp = one("netmap-build-stamp");
  const version = one("netmap-loaded");
  return {
    name,
    kind,
    ...(one("kernel") ? { kernel: one("kernel") } : {}),
    ...(one("os") ? { os: one("os") } : {}),
    ...(one("cpu") ? { cpuModel: one("cpu") } : {}),
    ...(Number.isInteger(cpus) && cpus > 0 ? { cpus } : {}),
    netmap: {
      loaded: sections.some((s) => s.name === "netmap-loaded"),
      ...(version ? { version } : {}),
      params,
      state,
      ...(buildDir ? { buildKey: path.posix.basename(buildDir) } : {}),
      ...(buildStamp ? { buildStamp } : {}),
    },
    qemu,
    nics: [...nics.entries()].map(([iface, nic]) => ({ interface: iface, ...nic })),
  };
}

/** Asks one machine; failures become `error`, never an exception. */
export async function collectMachineProvenance(
  machine: Machine,
  interfaces: readonly string[],
): Promise<MachineProvenance> {
  try {
    const result = await machine.session.run(
      "provenance",
      ["sh", "-c", PROVENANCE_SCRIPT, "sh", ...interfaces],
      {
        timeoutMs: 30_000,
      },
    );
    return parseProvenance(machine.name, machine.kind, result.stdout);
  } catch (error) {
    return { ...parseProvenance(machine.name, machine.kind, ""), error: (error as Error).message };
  }
}

export function sha256File(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

export interface ProjectProvenance {
  readonly name: string;
  readonly version: string;
  readonly gitCommit?: string;
  /** Uncommitted changes in the checkout when the playbook ran. */
  readonly gitDirty?: boolean;
}

/** netmap-testbed's version and, in a git checkout, its commit. */
export function projectProvenance(root: string = packageRoot()): ProjectProvenance {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const git = (args: string[]): string | undefined => {
    try {
      return execFileSync("git", ["-C", root, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      return undefined;
    }
  };
  const commit = git(["rev-parse", "HEAD"]);
  const status = commit === undefined ? undefined : git(["status", "--porcelain", "--untracked-files=no"]);
  return {
    name: pkg.name,
    version: pkg.version,
    ...(commit ? { gitCommit: commit } : {}),
    ...(status === undefined ? {} : { gitDirty: status !== "" }),
  };
}
