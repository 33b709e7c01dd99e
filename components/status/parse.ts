/**
 * Parses status.sh's one JSON object into an {@link ObservedHost}, checking every field's type
 * (a host script from another version fails with the path of the field, not a crash later), and
 * the raw VALE listing with the same parser as everywhere else ({@link parseValeCtlList}).
 */
import { parseValeCtlList, ValeCtlParseError } from "../parsers/vale-ctl";
import {
  HOST_STATUS_SCHEMA,
  type ObservedHost,
  type ObservedInterface,
  type ObservedModule,
  type ObservedModuleFile,
  type ObservedNetmapBuild,
  type ObservedQemuPrefix,
  type ObservedVale,
  type ObservedVm,
  type ObservedVmProcess,
  type ValeCtlRun,
} from "./types";

/** status.sh printed something that is not what this version expects. */
export class HostStatusParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostStatusParseError";
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function fail(path: string, what: string, value: Json | undefined): never {
  const shown = value === undefined ? "nothing" : JSON.stringify(value).slice(0, 80);
  throw new HostStatusParseError(`status.sh output: ${path}: expected ${what}, got ${shown}`);
}

function obj(value: Json | undefined, path: string): JsonObject {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    return fail(path, "an object", value);
  }
  return value;
}

function str(o: JsonObject, key: string, path: string): string {
  const v = o[key];
  return typeof v === "string" ? v : fail(`${path}.${key}`, "a string", v);
}

function strOrNull(o: JsonObject, key: string, path: string): string | null {
  const v = o[key];
  return v === null || typeof v === "string" ? v : fail(`${path}.${key}`, "a string or null", v);
}

function bool(o: JsonObject, key: string, path: string): boolean {
  const v = o[key];
  return typeof v === "boolean" ? v : fail(`${path}.${key}`, "true or false", v);
}

function numOrNull(o: JsonObject, key: string, path: string): number | null {
  const v = o[key];
  return v === null || (typeof v === "number" && Number.isFinite(v))
    ? v
    : fail(`${path}.${key}`, "a number or null", v);
}

function list<T>(o: JsonObject, key: string, path: string, item: (v: Json, p: string) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) return fail(`${path}.${key}`, "an array", v);
  return v.map((entry, i) => item(entry, `${path}.${key}[${i}]`));
}

function strings(o: JsonObject, key: string, path: string): string[] {
  return list(o, key, path, (v, p) => (typeof v === "string" ? v : fail(p, "a string", v)));
}

function stringsOrNull(o: JsonObject, key: string, path: string): string[] | null {
  return o[key] === null ? null : strings(o, key, path);
}

function moduleFile(value: Json, path: string): ObservedModuleFile | null {
  if (value === null) return null;
  const o = obj(value, path);
  return {
    path: str(o, "path", path),
    version: strOrNull(o, "version", path),
    srcversion: strOrNull(o, "srcversion", path),
    depends: strings(o, "depends", path),
    vermagic: strOrNull(o, "vermagic", path),
  };
}

function moduleEntry(value: Json, path: string): ObservedModule {
  const o = obj(value, path);
  return {
    name: str(o, "name", path),
    loaded: bool(o, "loaded", path),
    builtin: bool(o, "builtin", path),
    initstate: strOrNull(o, "initstate", path),
    version: strOrNull(o, "version", path),
    srcversion: strOrNull(o, "srcversion", path),
    refcnt: numOrNull(o, "refcnt", path),
    holders: strings(o, "holders", path),
    usesNetmap: bool(o, "usesNetmap", path),
    file:
      o.file === undefined
        ? fail(`${path}.file`, "an object or null", undefined)
        : moduleFile(o.file, `${path}.file`),
  };
}

function interfaceEntry(value: Json, path: string): ObservedInterface {
  const o = obj(value, path);
  return {
    name: str(o, "name", path),
    driver: strOrNull(o, "driver", path),
    module: strOrNull(o, "module", path),
    kind: strOrNull(o, "kind", path),
    usesNetmap: bool(o, "usesNetmap", path),
    operstate: strOrNull(o, "operstate", path),
  };
}

function processEntry(value: Json, path: string): ObservedVmProcess {
  const o = obj(value, path);
  const pid = numOrNull(o, "pid", path);
  if (pid === null) return fail(`${path}.pid`, "a number", null);
  return { pid, interpreter: strings(o, "interpreter", path), argv: strings(o, "argv", path) };
}

function vmEntry(value: Json, path: string): ObservedVm {
  const o = obj(value, path);
  return {
    name: str(o, "name", path),
    dir: strOrNull(o, "dir", path),
    unit: strOrNull(o, "unit", path),
    unitActive: strOrNull(o, "unitActive", path),
    recordedArgv: stringsOrNull(o, "recordedArgv", path),
    processes: list(o, "processes", path, processEntry),
  };
}

function buildEntry(value: Json, path: string): ObservedNetmapBuild {
  const o = obj(value, path);
  return {
    key: str(o, "key", path),
    dir: str(o, "dir", path),
    fingerprint: strOrNull(o, "fingerprint", path),
    modules: strings(o, "modules", path),
    current: bool(o, "current", path),
  };
}

function prefixEntry(value: Json, path: string): ObservedQemuPrefix {
  const o = obj(value, path);
  return {
    prefix: str(o, "prefix", path),
    exists: bool(o, "exists", path),
    stamped: bool(o, "stamped", path),
    configKey: strOrNull(o, "configKey", path),
    commit: strOrNull(o, "commit", path),
    source: strOrNull(o, "source", path),
    binary: str(o, "binary", path),
    executable: bool(o, "executable", path),
  };
}

/**
 * The VALE part: the raw listing parsed with parseValeCtlList. When netmap is not loaded,
 * vale-ctl cannot open /dev/netmap: that is an empty listing (no port can exist), not an error.
 */
export function observeVale(raw: ValeCtlRun | null, netmapLoaded: boolean): ObservedVale {
  if (raw === null) {
    return {
      available: false,
      error: "vale-ctl not found (not on PATH nor in /opt/netmap-testbed/bin)",
      raw,
      ports: [],
      anomalies: [],
    };
  }
  try {
    const listing = parseValeCtlList(raw.stdout, raw.stderr, raw.exitCode ?? -1);
    return { available: true, error: null, raw, ports: listing.ports, anomalies: listing.anomalies };
  } catch (error) {
    if (error instanceof ValeCtlParseError) {
      if (!netmapLoaded && error.detail?.op === "open") {
        return { available: true, error: null, raw, ports: [], anomalies: [] };
      }
      return { available: false, error: error.message, raw, ports: [], anomalies: [] };
    }
    throw error;
  }
}

function valeRun(value: Json | undefined, path: string): ValeCtlRun | null {
  if (value === null) return null;
  const o = obj(value, path);
  return {
    valeCtl: str(o, "valeCtl", path),
    stdout: str(o, "stdout", path),
    stderr: str(o, "stderr", path),
    exitCode: numOrNull(o, "exitCode", path),
  };
}

/** Parses the status.sh JSON (an object, or the script's stdout whose last non-empty line is it). */
export function parseHostStatus(output: string | Json): ObservedHost {
  let value: Json;
  if (typeof output === "string") {
    const line = output
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .pop();
    if (line === undefined) throw new HostStatusParseError("status.sh printed nothing on stdout");
    try {
      value = JSON.parse(line) as Json;
    } catch (error) {
      throw new HostStatusParseError(
        `status.sh output is not JSON (${(error as Error).message}): ${line.slice(0, 200)}`,
      );
    }
  } else {
    value = output;
  }
  const o = obj(value, "$");
  if (o.schema !== HOST_STATUS_SCHEMA) {
    return fail("$.schema", JSON.stringify(HOST_STATUS_SCHEMA), o.schema);
  }
  const paths = obj(o.paths, "$.paths");
  const netmap = obj(o.netmap, "$.netmap");
  const params = obj(netmap.params, "$.netmap.params");
  const recorded = obj(o.recorded, "$.recorded");
  const netmapLoaded = bool(netmap, "loaded", "$.netmap");
  return {
    schema: HOST_STATUS_SCHEMA,
    hostname: str(o, "hostname", "$"),
    kernelRelease: str(o, "kernelRelease", "$"),
    paths: {
      stateDir: str(paths, "stateDir", "$.paths"),
      optDir: str(paths, "optDir", "$.paths"),
      cacheDir: str(paths, "cacheDir", "$.paths"),
    },
    netmap: {
      loaded: netmapLoaded,
      refcnt: numOrNull(netmap, "refcnt", "$.netmap"),
      holders: strings(netmap, "holders", "$.netmap"),
      params: Object.fromEntries(
        Object.keys(params).map((key) => [key, str(params, key, "$.netmap.params")]),
      ),
      devNetmap: bool(netmap, "devNetmap", "$.netmap"),
    },
    modules: list(o, "modules", "$", moduleEntry),
    interfaces: list(o, "interfaces", "$", interfaceEntry),
    vale: observeVale(valeRun(o.vale, "$.vale"), netmapLoaded),
    vms: list(o, "vms", "$", vmEntry),
    netmapBuilds: list(o, "netmapBuilds", "$", buildEntry),
    qemuPrefixes: list(o, "qemuPrefixes", "$", prefixEntry),
    recorded: {
      loadArgs: stringsOrNull(recorded, "loadArgs", "$.recorded"),
      installedModules: stringsOrNull(recorded, "installedModules", "$.recorded"),
      touchedModules: stringsOrNull(recorded, "touchedModules", "$.recorded"),
      persistent: bool(recorded, "persistent", "$.recorded"),
    },
  };
}
