/** Where sources and images come from: git URLs and refs, local paths, download URLs (digests: digests.ts). */

/** git's own URL forms: https://, ssh://, git://, and scp-like user@host:path. */
const GIT_URL = /^(https:\/\/|ssh:\/\/|git:\/\/)[^\s]+$/;
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/;

export function checkGitUrl(url: string): string | undefined {
  if (GIT_URL.test(url) || SCP_LIKE.test(url)) return undefined;
  return (
    `git "${url}" is not a git URL: use https://…, ssh://…, git://… or user@host:path ` +
    `(for a tarball or directory already on each host use path: instead)`
  );
}

/** A subset of `git check-ref-format`: also excludes options-looking refs that could reach a command line. */
const REF = /^[A-Za-z0-9._/-]+$/;

export function checkRef(ref: string): string | undefined {
  if (REF.test(ref) && !ref.startsWith("-") && !ref.includes("..") && !ref.endsWith("/")) return undefined;
  return `ref "${ref}" is not a branch, tag or commit: use letters, digits, ".", "_", "/" or "-", not starting with "-"`;
}

export function checkLocalPath(path: string): string | undefined {
  if (path.startsWith("/") && !/[\s\0]/.test(path) && !path.split("/").includes("..")) return undefined;
  return `path "${path}" must be an absolute path on each host without spaces or "..", e.g. /srv/netmap.tar.gz`;
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
