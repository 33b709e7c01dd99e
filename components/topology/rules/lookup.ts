/** Name → object lookups shared by the cross-reference rules. */
import type { DraftHost, DraftTopology, Located } from "../draft";
import type { Reader } from "../reader";

export type Rule = (topology: DraftTopology, r: Reader) => void;

export function byName<T extends Located>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.name, item]));
}

/** Host names → the names of that host's NICs. */
export function nicNamesByHost(hosts: readonly DraftHost[]): Map<string, Set<string>> {
  return new Map(hosts.map((host) => [host.name, new Set(host.nics.map((nic) => nic.name))]));
}

/** Lists known names for a message: `h1, h2` or `none declared`. */
export function known(names: Iterable<string>): string {
  const list = [...names];
  return list.length > 0 ? list.join(", ") : "none declared";
}
