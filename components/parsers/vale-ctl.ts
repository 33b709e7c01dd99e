/**
 * Parsers for `vale-ctl` output (netmap's VALE switch control tool).
 *
 * Formats follow what a real netmap prints (verbatim samples in `__fixtures__/`):
 * - listing (no arguments): one `NAME bridge_idx N port_idx M` line per port; it exits 1 even
 *   on success, so success is judged by stderr, not by the exit code;
 * - errors: `failed to ACTION NAME: STRERROR` on stderr with exit 1 (ACTION is `create`, `remove`,
 *   `attach`, `detach`, `list`, `obtain info for`, `enable polling on`, `disable polling on`),
 *   `failed to list all: STRERROR`, `invalid vale port name: 'NAME'` (then usage), and
 *   `/dev/netmap: STRERROR` when the module is not loaded;
 * - `-g PORT`: `memsize:`, `tx_slots:`, `rx_slots:`, `tx_rings:`, `rx_rings` (no colon), `mem_id:`;
 * - `-l valeX:P`: `bridge_idx: N` and `port_idx: M`.
 * Pure functions, no I/O.
 */

/** A port the listing shows as `SWITCH:PORT`. */
export interface ValePortEntry {
  /** Switch name, e.g. `vale0`. */
  readonly switch: string;
  /** Port name inside the switch, e.g. `v0`, a NIC name, or a NIC's host port `eth1^`. */
  readonly port: string;
  readonly bridgeIdx: number;
  readonly portIdx: number;
}

/**
 * A listing line that is not a well-formed `SWITCH:PORT` entry but is real netmap state, e.g. the
 * corrupted state left by `vale-ctl -g` on an attached persistent port: the port is listed without
 * its switch prefix, detach fails with ENXIO and delete with EBUSY (only a reboot recovers).
 */
export interface ValeListAnomaly {
  readonly kind: "missing-switch-prefix";
  /** The name as printed. */
  readonly name: string;
  readonly bridgeIdx: number;
  readonly portIdx: number;
  /** The switch of another entry on the same bridge index, when there is one. */
  readonly likelySwitch?: string;
  /** The listing line, verbatim. */
  readonly line: string;
  readonly message: string;
}

export interface ValeCtlListing {
  readonly ports: readonly ValePortEntry[];
  readonly anomalies: readonly ValeListAnomaly[];
}

/** errno names for the strerror texts vale-ctl prints (glibc wording). */
const ERRNO_BY_TEXT: Readonly<Record<string, string>> = {
  "Operation not permitted": "EPERM",
  "No such file or directory": "ENOENT",
  "No such device or address": "ENXIO",
  "Device or resource busy": "EBUSY",
  "File exists": "EEXIST",
  "No such device": "ENODEV",
  "Invalid argument": "EINVAL",
  "Cannot allocate memory": "ENOMEM",
  "Permission denied": "EACCES",
  "No space left on device": "ENOSPC",
  "Operation not supported": "EOPNOTSUPP",
  "Too many open files": "EMFILE",
  "Numerical result out of range": "ERANGE",
  "Bad address": "EFAULT",
};

/** What a failed vale-ctl call said, decoded from its stderr. */
export interface ValeCtlError {
  /**
   * The operation: `create`, `remove`, `attach`, `detach`, `list`, `list all`, `obtain info for`,
   * `enable polling on`, `disable polling on`, `open` (of /dev/netmap), `validate` (bad name) or
   * `unknown`.
   */
  readonly op: string;
  /** The port or interface the operation was about (null for `list all` and unknown errors). */
  readonly target: string | null;
  /** strerror text, e.g. `File exists` (null when the error has none). */
  readonly errnoText: string | null;
  /** errno name when the text is known, e.g. `EEXIST`. */
  readonly errno: string | null;
  /** The first meaningful stderr line, verbatim. */
  readonly message: string;
}

const ACTIONS = [
  "obtain info for",
  "enable polling on",
  "disable polling on",
  "create",
  "remove",
  "attach",
  "detach",
  "list",
];

function errnoName(text: string): string | null {
  return ERRNO_BY_TEXT[text] ?? null;
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/**
 * Decodes vale-ctl's stderr. Returns null when stderr carries no error (empty or whitespace).
 * Unrecognised text is returned as `op: "unknown"` with the first line as message, never thrown.
 */
export function parseValeCtlError(stderr: string): ValeCtlError | null {
  const lines = splitLines(stderr)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return null;
  for (const line of lines) {
    const listAll = /^failed to list all: (.+)$/.exec(line);
    if (listAll) {
      return {
        op: "list all",
        target: null,
        errnoText: listAll[1],
        errno: errnoName(listAll[1]),
        message: line,
      };
    }
    for (const action of ACTIONS) {
      const prefix = `failed to ${action} `;
      if (!line.startsWith(prefix)) continue;
      const rest = line.slice(prefix.length);
      // The name never contains ": " (VALE names are [0-9A-Za-z_], NICs are netdev names), so the
      // last ": " separates the name from the strerror text.
      const sep = rest.lastIndexOf(": ");
      if (sep <= 0) continue;
      const errnoText = rest.slice(sep + 2);
      return {
        op: action,
        target: rest.slice(0, sep),
        errnoText,
        errno: errnoName(errnoText),
        message: line,
      };
    }
    const invalid = /^invalid vale port name: '(.*)'$/.exec(line);
    if (invalid) {
      return { op: "validate", target: invalid[1], errnoText: null, errno: null, message: line };
    }
    const devOpen = /^(\/dev\/netmap): (.+)$/.exec(line);
    if (devOpen) {
      return {
        op: "open",
        target: devOpen[1],
        errnoText: devOpen[2],
        errno: errnoName(devOpen[2]),
        message: line,
      };
    }
  }
  return { op: "unknown", target: null, errnoText: null, errno: null, message: lines[0] };
}

/** Thrown when vale-ctl reported an error or printed something the parser does not understand. */
export class ValeCtlParseError extends Error {
  constructor(
    message: string,
    readonly detail: ValeCtlError | null = null,
  ) {
    super(message);
    this.name = "ValeCtlParseError";
  }
}

const LIST_LINE = /^(\S+) bridge_idx (\d+) port_idx (\d+)$/;

/**
 * Parses the listing (`vale-ctl` with no arguments). Exit code 1 is normal for the listing; any
 * stderr output means the listing failed and is thrown with its text. An empty listing is valid.
 * A port shown without its switch prefix is reported in `anomalies`, not thrown.
 */
export function parseValeCtlList(stdout: string, stderr: string, exitCode: number): ValeCtlListing {
  const err = parseValeCtlError(stderr);
  if (err) {
    throw new ValeCtlParseError(`vale-ctl listing failed (exit ${exitCode}): ${err.message}`, err);
  }
  if (exitCode !== 0 && exitCode !== 1) {
    throw new ValeCtlParseError(`vale-ctl listing exited with ${exitCode} and no error text`);
  }
  const ports: ValePortEntry[] = [];
  const raw: { name: string; bridgeIdx: number; portIdx: number; line: string }[] = [];
  splitLines(stdout).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    const m = LIST_LINE.exec(trimmed);
    if (!m) {
      throw new ValeCtlParseError(
        `vale-ctl listing line ${i + 1} is not "NAME bridge_idx N port_idx M": ${JSON.stringify(line)}`,
      );
    }
    raw.push({ name: m[1], bridgeIdx: Number(m[2]), portIdx: Number(m[3]), line: trimmed });
  });
  const unprefixed: typeof raw = [];
  for (const r of raw) {
    const colon = r.name.indexOf(":");
    if (colon > 0 && colon < r.name.length - 1) {
      ports.push({
        switch: r.name.slice(0, colon),
        port: r.name.slice(colon + 1),
        bridgeIdx: r.bridgeIdx,
        portIdx: r.portIdx,
      });
    } else {
      unprefixed.push(r);
    }
  }
  const anomalies: ValeListAnomaly[] = unprefixed.map((r) => {
    const sibling = ports.find((p) => p.bridgeIdx === r.bridgeIdx);
    return {
      kind: "missing-switch-prefix",
      name: r.name,
      bridgeIdx: r.bridgeIdx,
      portIdx: r.portIdx,
      ...(sibling ? { likelySwitch: sibling.switch } : {}),
      line: r.line,
      message:
        `port "${r.name}" is listed without its switch prefix (bridge_idx ${r.bridgeIdx}): its state is ` +
        `corrupted (seen after "vale-ctl -g" on an attached port); detach/delete will fail, reboot the host`,
    };
  });
  return { ports, anomalies };
}

/** Port geometry printed by `vale-ctl -g PORT`. */
export interface ValeCtlGeometry {
  readonly memsize: number;
  readonly txSlots: number;
  readonly rxSlots: number;
  readonly txRings: number;
  readonly rxRings: number;
  readonly memId: number;
}

const GEOMETRY_KEYS: Readonly<Record<string, keyof ValeCtlGeometry>> = {
  memsize: "memsize",
  tx_slots: "txSlots",
  rx_slots: "rxSlots",
  tx_rings: "txRings",
  rx_rings: "rxRings",
  mem_id: "memId",
};

/**
 * Parses `vale-ctl -g` output. Accepts `key: value` and `key value` (vale-ctl prints `rx_rings`
 * without a colon). All six keys must be present.
 * NEVER run `-g` on a persistent port that is attached to a switch: it corrupts the port.
 */
export function parseValeCtlGeometry(stdout: string): ValeCtlGeometry {
  const found: Partial<Record<keyof ValeCtlGeometry, number>> = {};
  splitLines(stdout).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    const m = /^([a-z_]+):?\s+(\d+)$/.exec(trimmed);
    const key = m ? GEOMETRY_KEYS[m[1]] : undefined;
    if (!m || !key) {
      throw new ValeCtlParseError(`vale-ctl -g line ${i + 1} is not "key: number": ${JSON.stringify(line)}`);
    }
    found[key] = Number(m[2]);
  });
  const missing = Object.values(GEOMETRY_KEYS).filter((k) => found[k] === undefined);
  if (missing.length > 0) {
    throw new ValeCtlParseError(`vale-ctl -g output lacks ${missing.join(", ")}`);
  }
  return found as ValeCtlGeometry;
}

/** Bridge/port indices printed by `vale-ctl -l valeX:P`. */
export interface ValeCtlPortInfo {
  readonly bridgeIdx: number;
  readonly portIdx: number;
  /** port_idx 255 is what netmap shows for a port whose state was corrupted (see parseValeCtlList). */
  readonly corrupted: boolean;
}

/** Parses `vale-ctl -l valeX:P` output (`bridge_idx: N`, `port_idx: M`). */
export function parseValeCtlPortInfo(stdout: string): ValeCtlPortInfo {
  const b = /^bridge_idx:\s+(\d+)\s*$/m.exec(stdout);
  const p = /^port_idx:\s+(\d+)\s*$/m.exec(stdout);
  if (!b || !p) {
    throw new ValeCtlParseError(`vale-ctl -l output lacks bridge_idx/port_idx: ${JSON.stringify(stdout)}`);
  }
  const portIdx = Number(p[1]);
  return { bridgeIdx: Number(b[1]), portIdx, corrupted: portIdx === 255 };
}
