/**
 * Paths name a node in the document (`vms.vm1.nics[1].pipe`). The reader records the position of
 * every path it visits and the rules report by path, so both sides must build paths the same way:
 * always through these helpers.
 */

export const ROOT_PATH = "$";

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** Path of a map entry; keys that would make the path ambiguous are quoted. */
export function childPath(parent: string, key: string): string {
  const segment = PLAIN_KEY.test(key) ? key : JSON.stringify(key);
  return parent === ROOT_PATH ? segment : `${parent}.${segment}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
