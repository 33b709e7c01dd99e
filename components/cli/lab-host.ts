/**
 * Where a booted local-lab host is reached: its SSH port and host key exist only once it runs,
 * and kernel-builds/lab/boot-host.sh records them in host.json in the host's state directory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { asRecord } from "./as-record";

/** What boot-host.sh records in a lab host's state dir (host.json). */
export interface LabEndpoint {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
  readonly privateKeyPath: string | null;
  readonly file: string;
}

function readLabHostJson(file: string): (LabEndpoint & { name: string }) | undefined {
  let data: Record<string, unknown> | undefined;
  try {
    data = asRecord(JSON.parse(fs.readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
  if (
    !data ||
    typeof data.sshPort !== "number" ||
    typeof data.hostKey !== "string" ||
    typeof data.address !== "string"
  ) {
    return undefined;
  }
  return {
    name: typeof data.name === "string" ? data.name : "",
    address: data.address,
    port: data.sshPort,
    user: typeof data.user === "string" ? data.user : "root",
    hostKey: data.hostKey,
    privateKeyPath: typeof data.privateKeyPath === "string" ? data.privateKeyPath : null,
    file,
  };
}

/**
 * `--lab-state DIR` names a directory (the lab root or one host's state dir): the one-line
 * problem when it does not, said before any host is contacted.
 */
export function labStateProblem(labState: string, cwd: string): string | undefined {
  try {
    if (fs.statSync(path.resolve(cwd, labState)).isDirectory()) return undefined;
  } catch {
    // Missing: said below.
  }
  return `--lab-state ${labState}: no such directory (give the lab root or a lab host's state directory)`;
}

/**
 * A booted lab host's endpoint. LocalLabHost names its state dir `STACK-HOST` under the lab root;
 * `--lab-state` may be that root or one host's state dir.
 */
export function findLabHost(
  host: string,
  labState: string | undefined,
  stack: string | undefined,
  home: string,
  labHostCount: number,
): LabEndpoint | string {
  const root = labState ?? (stack ? path.join(home, ".cache", "netmap-testbed", "lab") : undefined);
  if (root === undefined) {
    return (
      `host ${host} is a localLab host: its SSH port and host key exist only once it is booted; ` +
      `pass --lab-state DIR (the lab root ~/.cache/netmap-testbed/lab or the host's state dir, where ` +
      `kernel-builds/lab/boot-host.sh writes host.json), or name the stack instead of the topology file`
    );
  }
  const own = readLabHostJson(path.join(root, "host.json"));
  if (own && (own.name === host || own.name.endsWith(`-${host}`) || labHostCount === 1)) return own;
  const candidates = [path.join(root, host, "host.json")];
  if (stack) candidates.push(path.join(root, `${stack}-${host}`, "host.json"));
  for (const file of candidates) {
    const found = readLabHostJson(file);
    if (found) return found;
  }
  if (!stack) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root).filter((entry) => entry.endsWith(`-${host}`));
    } catch {
      entries = [];
    }
    const found = entries
      .map((entry) => readLabHostJson(path.join(root, entry, "host.json")))
      .filter((entry): entry is LabEndpoint & { name: string } => entry !== undefined);
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      return `host ${host}: several lab hosts under ${root} match (${found.map((f) => f.file).join(", ")}); pass that host's state dir with --lab-state`;
    }
  }
  return `host ${host} is a localLab host and no booted lab host was found under ${root} (no host.json${stack ? ` in ${stack}-${host}/` : ""}): boot it (npx pulumi up) or pass --lab-state DIR`;
}
