import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The directory holding netmap-testbed's package.json, whether this file runs from the TypeScript
 * sources (ts-node, jest) or from the compiled `dist/` tree, so host scripts and the compiled
 * step runner are found the same way in both.
 */
export function packageRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      const name = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown }).name;
      if (name === "netmap-testbed") return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`netmap-testbed: cannot find the package root above ${start}`);
    dir = parent;
  }
}
