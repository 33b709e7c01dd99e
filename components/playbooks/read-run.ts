/** Reads the per-run options (also accepted under `defaults`) and one run's shape. */
import { isScalar, isSeq } from "yaml";
import { childPath } from "../topology/paths";
import type { Reader } from "../topology/reader";
import { CPU_MAX, parseCpuList } from "./cpu-list";
import { MAX_FRAME, MIN_FRAME, PAPER_FIGURES, type EndpointSpec, type PaperFigure } from "./model";
import { readEndpoint } from "./read-endpoint";

export const RUN_OPTION_KEYS = [
  "sizes",
  "duration",
  "warmup",
  "repetitions",
  "threads",
  "pin",
  "rate",
  "reportInterval",
  "paper",
] as const;

/** Options as written (run or defaults), each with the path it was read from. */
export interface DraftRunOptions {
  sizes?: { value: number[]; path: string };
  duration?: { value: number; path: string };
  warmup?: { value: number; path: string };
  repetitions?: { value: number; path: string };
  threads?: { value: number; path: string };
  pinSender?: { value: number[]; path: string };
  pinReceiver?: { value: number[]; path: string };
  rate?: { value: number; path: string };
  reportInterval?: { value: number; path: string };
  paper?: { value: PaperFigure; path: string };
}

export interface DraftRun {
  readonly path: string;
  readonly name?: string;
  readonly sender?: EndpointSpec;
  readonly receiver?: EndpointSpec;
  readonly options: DraftRunOptions;
}

function readCpus(r: Reader, node: unknown, path: string): number[] | undefined {
  if (isScalar(node) && typeof node.value === "string") {
    const parsed = parseCpuList(node.value);
    if (typeof parsed === "string") {
      r.report(path, parsed);
      return undefined;
    }
    return parsed;
  }
  if (isScalar(node) && typeof node.value === "number") {
    const cpu = r.integer(node, path, "CPU", 0, CPU_MAX);
    return cpu === undefined ? undefined : [cpu];
  }
  if (!isSeq(node)) {
    r.report(path, `expected a CPU list: [2, 3] or "2-3"`);
    return undefined;
  }
  const cpus: number[] = [];
  let ok = true;
  for (const item of r.list(node, path, "CPU list")) {
    const cpu = r.integer(item.node, item.path, "CPU", 0, CPU_MAX);
    if (cpu === undefined) ok = false;
    else cpus.push(cpu);
  }
  if (!ok) return undefined;
  if (cpus.length === 0) {
    r.report(path, `the CPU list is empty; give one CPU per thread or leave pin out`);
    return undefined;
  }
  const duplicate = cpus.find((cpu, i) => cpus.indexOf(cpu) !== i);
  if (duplicate !== undefined) {
    r.report(path, `CPU ${duplicate} is listed twice; give each thread its own CPU`);
    return undefined;
  }
  return cpus;
}

function readSizes(r: Reader, node: unknown, path: string): number[] | undefined {
  const sizes: number[] = [];
  let ok = true;
  const items = r.list(node, path, "sizes");
  if (items.length === 0 && (isSeq(node) || r.isEmpty(node))) {
    r.report(path, `sizes is empty; list frame sizes in bytes, e.g. [60, 124, 252, 508, 1020, 1514]`);
    return undefined;
  }
  for (const item of items) {
    const size = r.integer(item.node, item.path, "frame size in bytes without CRC", MIN_FRAME, MAX_FRAME);
    if (size === undefined) {
      ok = false;
    } else if (sizes.includes(size)) {
      r.report(item.path, `size ${size} is listed twice; each size is measured once per repetition`);
      ok = false;
    } else {
      sizes.push(size);
    }
  }
  return ok && items.length > 0 ? sizes : undefined;
}

function withPath<T>(value: T | undefined, path: string): { value: T; path: string } | undefined {
  return value === undefined ? undefined : { value, path };
}

/** Reads the option keys present in `fields` (a run or the defaults map). */
export function readRunOptions(r: Reader, fields: Map<string, unknown>, path: string): DraftRunOptions {
  const at = (key: string): string => childPath(path, key);
  const int = (
    key: string,
    what: string,
    min: number,
    max: number,
  ): { value: number; path: string } | undefined =>
    fields.has(key) ? withPath(r.integer(fields.get(key), at(key), what, min, max), at(key)) : undefined;
  const options: DraftRunOptions = {
    sizes: fields.has("sizes")
      ? withPath(readSizes(r, fields.get("sizes"), at("sizes")), at("sizes"))
      : undefined,
    duration: int("duration", "duration (seconds measured per repetition)", 1, 86_400),
    warmup: int("warmup", "warmup (seconds discarded per repetition)", 0, 3600),
    repetitions: int("repetitions", "repetitions", 1, 1000),
    threads: int("threads", "threads (pkt-gen -p)", 1, 64),
    rate: int("rate", "rate (packets per second, pkt-gen -R)", 1, 1_000_000_000),
    reportInterval: int("reportInterval", "reportInterval (milliseconds, pkt-gen -T)", 100, 60_000),
    paper: fields.has("paper")
      ? withPath(r.oneOf(fields.get("paper"), at("paper"), "paper", PAPER_FIGURES), at("paper"))
      : undefined,
  };
  if (fields.has("pin")) {
    const pinPath = at("pin");
    const pin = r.fields(fields.get("pin"), pinPath, { optional: ["sender", "receiver"] }, "pin");
    if (pin?.has("sender")) {
      const p = childPath(pinPath, "sender");
      options.pinSender = withPath(readCpus(r, pin.get("sender"), p), p);
    }
    if (pin?.has("receiver")) {
      const p = childPath(pinPath, "receiver");
      options.pinReceiver = withPath(readCpus(r, pin.get("receiver"), p), p);
    }
  }
  return options;
}

export function readRun(r: Reader, node: unknown, path: string): DraftRun {
  const fields = r.fields(
    node,
    path,
    { required: ["name", "sender", "receiver"], optional: RUN_OPTION_KEYS },
    "a run",
  );
  if (!fields) return { path, options: {} };
  const at = (key: string): string => childPath(path, key);
  const name = fields.has("name") ? r.string(fields.get("name"), at("name"), "run name") : undefined;
  const sender = fields.has("sender")
    ? readEndpoint(r, fields.get("sender"), at("sender"), "sender")
    : undefined;
  const receiver = fields.has("receiver")
    ? readEndpoint(r, fields.get("receiver"), at("receiver"), "receiver")
    : undefined;
  return { path, name, sender, receiver, options: readRunOptions(r, fields, path) };
}
