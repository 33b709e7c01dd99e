/** Where sources and images come from: git URLs and refs, local paths, download URLs (digests: digests.ts). */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { passesRule, SHARED_RULES } from "./shared-rules";

export function checkGitUrl(url: string): string | undefined {
  if (passesRule(SHARED_RULES.gitUrl, url)) return undefined;
  return (
    `git "${url}" is not a git URL the hosts take: ${SHARED_RULES.gitUrl.hint} ` +
    `(for a tarball or directory on this machine use path:, for one already on each host hostPath:)`
  );
}

export function checkRef(ref: string): string | undefined {
  if (passesRule(SHARED_RULES.gitRef, ref)) return undefined;
  return `ref "${ref}" is not ${SHARED_RULES.gitRef.hint}`;
}

export function checkHostPath(path: string): string | undefined {
  if (passesRule(SHARED_RULES.hostPath, path)) return undefined;
  return `hostPath "${path}" must be ${SHARED_RULES.hostPath.hint}, on each host`;
}

const SOURCE_ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.xz)$/;

/**
 * A source on the controller: `written` resolved against the topology file's directory. It must
 * exist as a tarball or a directory, and its resolved path must pass the scripts' path rule
 * (the lab's native build hands it to them). Returns the absolute path, or the problem.
 */
export function resolveControllerPath(
  written: string,
  topologyFile: string,
): { path: string } | { error: string } {
  const resolved = nodePath.resolve(nodePath.dirname(nodePath.resolve(topologyFile)), written);
  const where = nodePath.isAbsolute(written) ? "" : ` (read from the topology file's directory: ${resolved})`;
  if (!passesRule(SHARED_RULES.hostPath, resolved)) {
    return { error: `path "${written}"${where} must resolve to ${SHARED_RULES.hostPath.hint}` };
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(resolved);
  } catch {
    stat = undefined;
  }
  if (!stat) {
    return {
      error: `path "${written}" does not exist on this machine${where}; for a tarball or directory already on each host use hostPath: instead`,
    };
  }
  if (stat.isDirectory() || (stat.isFile() && SOURCE_ARCHIVE.test(resolved))) return { path: resolved };
  return {
    error: `path "${written}"${where} is neither a directory nor a .tar, .tar.gz, .tgz or .tar.xz file`,
  };
}

export function checkDownloadUrl(url: string): string | undefined {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed && (parsed.protocol === "https:" || parsed.protocol === "http:") && parsed.hostname !== "") {
    return undefined;
  }
  return `url "${url}" is not an http(s) URL; give the image's download address, e.g. https://cloud.debian.org/…`;
}

export function checkDriverVersion(version: string): string | undefined {
  if (/^\d+(\.\d+)+$/.test(version)) return undefined;
  return `driver version "${version}" must look like 6.1.6 (numbers separated by dots); quote it if YAML reads it as a number`;
}
