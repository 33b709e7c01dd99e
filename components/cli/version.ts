import { readFileSync } from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../pulumi/package-root";

/**
 * The version in this package's own package.json: found from the running file, so an installed
 * copy reports its own version, whatever the user's project or working directory is.
 */
export function packageVersion(start: string = __dirname): string {
  const manifest = path.join(packageRoot(start), "package.json");
  const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown }).version;
  if (typeof version !== "string" || version === "") throw new Error(`${manifest}: no "version"`);
  return version;
}
