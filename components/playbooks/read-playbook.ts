/** Reads the top level of a playbook: apiVersion, name, topology, tuning, defaults and runs. */
import { checkObjectName, checkTopologyName } from "../topology/names";
import { childPath, ROOT_PATH } from "../topology/paths";
import type { Reader } from "../topology/reader";
import { PLAYBOOK_API_VERSION, type TuningSpec } from "./model";
import { readRun, readRunOptions, RUN_OPTION_KEYS, type DraftRun, type DraftRunOptions } from "./read-run";

export const DEFAULT_TUNING: TuningSpec = {
  flowControl: "off",
  offloads: "off",
  governor: "performance",
  pinning: true,
};

export interface DraftPlaybook {
  readonly name?: string;
  readonly description?: string;
  /** The `topology` value as written, and its path in the document. */
  readonly topology?: string;
  readonly tuning?: TuningSpec;
  readonly lineRateGbps?: number;
  readonly defaults: DraftRunOptions;
  readonly runs: readonly DraftRun[];
}

const at = (key: string): string => childPath(ROOT_PATH, key);

/**
 * Whether a parsed YAML document is a playbook rather than a topology: the playbook apiVersion,
 * or, without a topology apiVersion, the two keys every playbook has (`topology` and `runs`).
 * Lets `validate` point at `run --check` instead of listing a topology's missing keys.
 */
export function looksLikePlaybook(document: unknown): boolean {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return false;
  const root = document as Record<string, unknown>;
  if (root.apiVersion === PLAYBOOK_API_VERSION) return true;
  const topologyApi = typeof root.apiVersion === "string" && !root.apiVersion.includes("playbook");
  return !topologyApi && "topology" in root && "runs" in root;
}

function checkApiVersion(value: string): string | undefined {
  if (value === PLAYBOOK_API_VERSION) return undefined;
  const hint = value === "netmap-testbed/v1" ? " (that is the topology schema)" : "";
  return `apiVersion "${value}" is not supported${hint}; playbooks start with apiVersion: ${PLAYBOOK_API_VERSION}`;
}

function checkGovernor(value: string): string | undefined {
  if (/^[a-z][a-z0-9_]{0,31}$/.test(value)) return undefined;
  return `governor "${value}" is not a cpufreq governor name (e.g. performance, schedutil) or keep`;
}

function readTuning(r: Reader, node: unknown): TuningSpec | undefined {
  const path = at("tuning");
  if (r.isEmpty(node)) return DEFAULT_TUNING;
  const f = r.fields(node, path, { optional: ["flowControl", "offloads", "governor", "pinning"] }, "tuning");
  if (!f) return undefined;
  const p = (key: string): string => childPath(path, key);
  const onOff = ["off", "keep"] as const;
  const flowControl = f.has("flowControl")
    ? r.oneOf(f.get("flowControl"), p("flowControl"), "flowControl", onOff)
    : DEFAULT_TUNING.flowControl;
  const offloads = f.has("offloads")
    ? r.oneOf(f.get("offloads"), p("offloads"), "offloads", onOff)
    : DEFAULT_TUNING.offloads;
  const governor = f.has("governor")
    ? r.string(f.get("governor"), p("governor"), "governor", checkGovernor)
    : DEFAULT_TUNING.governor;
  const pinning = f.has("pinning")
    ? r.boolean(f.get("pinning"), p("pinning"), "pinning")
    : DEFAULT_TUNING.pinning;
  if (
    flowControl === undefined ||
    offloads === undefined ||
    governor === undefined ||
    pinning === undefined
  ) {
    return undefined;
  }
  return { flowControl, offloads, governor, pinning };
}

export function readPlaybook(r: Reader): DraftPlaybook | undefined {
  if (r.isEmpty(r.root)) {
    r.report(
      ROOT_PATH,
      `the file is empty; start it with apiVersion: ${PLAYBOOK_API_VERSION} (see docs/playbooks.md)`,
    );
    return undefined;
  }
  const fields = r.fields(
    r.root,
    ROOT_PATH,
    {
      required: ["apiVersion", "name", "topology", "runs"],
      optional: ["description", "tuning", "lineRateGbps", "defaults"],
    },
    "the playbook",
  );
  if (!fields) return undefined;
  if (fields.has("apiVersion"))
    r.text(fields.get("apiVersion"), at("apiVersion"), "apiVersion", checkApiVersion);
  const name = fields.has("name")
    ? r.string(fields.get("name"), at("name"), "name", checkTopologyName)
    : undefined;
  const description = fields.has("description")
    ? r.string(fields.get("description"), at("description"), "description")
    : undefined;
  const topology = fields.has("topology")
    ? r.string(fields.get("topology"), at("topology"), "topology (a path relative to the playbook)")
    : undefined;
  const tuning = readTuning(r, fields.get("tuning"));
  const lineRateGbps = fields.has("lineRateGbps")
    ? r.integer(fields.get("lineRateGbps"), at("lineRateGbps"), "lineRateGbps", 1, 1000)
    : 10;
  let defaults: DraftRunOptions = {};
  if (fields.has("defaults")) {
    const d = r.fields(fields.get("defaults"), at("defaults"), { optional: RUN_OPTION_KEYS }, "defaults");
    if (d) defaults = readRunOptions(r, d, at("defaults"));
  }
  const runs = r.list(fields.get("runs"), at("runs"), "runs").map((item) => readRun(r, item.node, item.path));
  if (fields.has("runs") && runs.length === 0 && r.isEmpty(fields.get("runs"))) {
    r.reportKey(at("runs"), `runs is empty; add at least one run with name, sender and receiver`);
  }
  const seen = new Map<string, string>();
  for (const run of runs) {
    if (run.name === undefined) continue;
    const problem = checkObjectName("run", run.name);
    if (problem !== undefined) r.report(childPath(run.path, "name"), problem);
    const first = seen.get(run.name);
    if (first !== undefined) {
      r.report(
        childPath(run.path, "name"),
        `run name "${run.name}" is already used by ${first}; names must be unique`,
      );
    } else {
      seen.set(run.name, run.path);
    }
  }
  return { name, description, topology, tuning, lineRateGbps, defaults, runs };
}
