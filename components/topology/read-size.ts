/** Reads a size with a unit (`2GiB`, `512MiB`) into MiB, within bounds. */
import type { Reader } from "./reader";
import { parseMiB, sizeHint } from "./units";

export function readMiB(
  r: Reader,
  node: unknown,
  path: string,
  field: string,
  minMiB: number,
  maxMiB: number,
): number | undefined {
  const text = r.text(node, path, `${field} (a size such as 2GiB)`);
  if (text === undefined) return undefined;
  const mib = parseMiB(text);
  if (mib === undefined) {
    r.report(path, `${field} "${text}" has no valid unit; ${sizeHint(field)}`);
    return undefined;
  }
  if (mib < minMiB || mib > maxMiB) {
    r.report(path, `${field} ${text} is out of range: give between ${minMiB}MiB and ${maxMiB / 1024}GiB`);
    return undefined;
  }
  return mib;
}
