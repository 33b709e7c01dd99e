/** Where sources and images come from: git URLs and refs, local paths, download URLs (digests: digests.ts). */
import { passesRule, SHARED_RULES } from "./shared-rules";

export function checkGitUrl(url: string): string | undefined {
  if (passesRule(SHARED_RULES.gitUrl, url)) return undefined;
  return (
    `git "${url}" is not a git URL the hosts take: ${SHARED_RULES.gitUrl.hint} ` +
    `(for a tarball or directory already on each host use path: instead)`
  );
}

export function checkRef(ref: string): string | undefined {
  if (passesRule(SHARED_RULES.gitRef, ref)) return undefined;
  return `ref "${ref}" is not ${SHARED_RULES.gitRef.hint}`;
}

export function checkLocalPath(path: string): string | undefined {
  if (passesRule(SHARED_RULES.hostPath, path)) return undefined;
  return `path "${path}" must be ${SHARED_RULES.hostPath.hint}, on each host`;
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
