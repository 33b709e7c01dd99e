import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "./package-root";

/** Where every host keeps the installed scripts; `current` points at the bundle of the last deploy. */
export const HOST_SCRIPTS_ROOT = "/opt/netmap-testbed/scripts";
export const HOST_SCRIPTS_DIR = `${HOST_SCRIPTS_ROOT}/current`;

export interface ScriptBundle {
  /** sha256 over every file's path, mode and content: changes exactly when a script changes. */
  readonly hash: string;
  /** gzip'd tar of `kernel-builds/`, base64 encoded, to be sent on stdin. */
  readonly base64: string;
  readonly files: readonly string[];
}

function listFiles(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = path.posix.join(rel, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(root, child));
    else if (entry.isFile()) out.push(child);
  }
  return out.sort();
}

let cached: ScriptBundle | undefined;

/**
 * Packs `kernel-builds/` once per process. The tar is made reproducible (sorted, fixed mtime and
 * owner) so that the same scripts always give the same bytes.
 */
export function scriptBundle(root: string = packageRoot()): ScriptBundle {
  if (cached && root === packageRoot()) return cached;
  const files = listFiles(root, "kernel-builds");
  const hash = createHash("sha256");
  for (const file of files) {
    const full = path.join(root, file);
    const executable = (fs.statSync(full).mode & 0o111) !== 0;
    hash.update(`${file}\0${executable ? "x" : "-"}\0`);
    hash.update(fs.readFileSync(full));
    hash.update("\0");
  }
  const tar = execFileSync(
    "tar",
    ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", ...files],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  const gz = execFileSync("gzip", ["-n", "-9"], { input: tar, maxBuffer: 64 * 1024 * 1024 });
  const bundle: ScriptBundle = {
    hash: hash.digest("hex").slice(0, 16),
    base64: gz.toString("base64"),
    files,
  };
  if (root === packageRoot()) cached = bundle;
  return bundle;
}

/**
 * The argv that unpacks a bundle (sent on stdin as base64) into `<root>/<hash>` and points
 * `current` at it atomically. Constant code: the only variable part, the hash, is an argument.
 */
export function installBundleArgv(hash: string): string[] {
  if (!/^[0-9a-f]{16}$/.test(hash)) throw new Error(`invalid script bundle hash ${JSON.stringify(hash)}`);
  const script = [
    "set -euo pipefail",
    'root="$1"; hash="$2"; dir="$root/$hash"',
    'mkdir -p "$root"',
    'if [ ! -f "$dir/.complete" ]; then',
    '  rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"',
    '  base64 -d | tar -xzf - -C "$dir.tmp"',
    '  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"',
    "else cat >/dev/null; fi",
    'ln -sfn "$hash" "$root/current.tmp" && mv -T "$root/current.tmp" "$root/current"',
    'printf \'{"scriptsDir":"%s/current","hash":"%s"}\\n\' "$root" "$hash"',
  ].join("\n");
  return ["bash", "-c", script, "nmtb-install-scripts", HOST_SCRIPTS_ROOT, hash];
}

/** Removes every installed bundle: the last step of a host's teardown. */
export function removeBundlesArgv(): string[] {
  return [
    "bash",
    "-c",
    'set -euo pipefail; rm -rf "$1"; echo "{}"',
    "nmtb-remove-scripts",
    HOST_SCRIPTS_ROOT,
  ];
}

/** The absolute host path of a script in the installed bundle, e.g. `netmap/build.sh`. */
export function hostScript(relative: string): string {
  if (!/^[a-z0-9_-]+\/[a-z0-9_.-]+\.sh$/.test(relative)) throw new Error(`invalid script path ${relative}`);
  return `${HOST_SCRIPTS_DIR}/kernel-builds/${relative}`;
}
