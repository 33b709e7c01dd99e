import { execFileSync } from "node:child_process";
import type { SourceSpec } from "../topology/model";

const COMMIT = /^[0-9a-f]{40}$/;

/** What resolving a git source's ref on this machine gave. */
export type RefResolution =
  | { readonly kind: "commit"; readonly commit: string; readonly from: "pinned" | "ls-remote" }
  /** The repository could not be asked from here (offline, a mirror only the hosts have): each host resolves the ref. */
  | { readonly kind: "unresolved"; readonly why: string };

/** `git ls-remote` lines as `{ ref → commit }`. */
export function parseLsRemote(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of output.split("\n")) {
    const [commit, ref] = line.trim().split(/\s+/);
    if (commit && ref && COMMIT.test(commit)) refs.set(ref, commit);
  }
  return refs;
}

/**
 * The commit a ref names in an `ls-remote` listing: a branch, else a tag (an annotated tag's
 * peeled commit), else a full ref name. Undefined when the repository has no such ref.
 */
export function commitForRef(refs: ReadonlyMap<string, string>, ref: string): string | undefined {
  const candidates = [`refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`, `${ref}^{}`, ref];
  for (const candidate of candidates) {
    const commit = refs.get(candidate);
    if (commit) return commit;
  }
  return undefined;
}

/**
 * A git source's ref as one commit for the whole deployment, so that every host, every guest and
 * the QEMU build key use the same netmap however a branch moves meanwhile. A full commit is
 * taken as it is; anything else is asked of the repository from this machine. A repository that
 * answers without the ref is a mistake in the topology and an error; one that cannot be asked
 * leaves the ref to the hosts.
 */
export function resolveGitRef(url: string, ref: string, timeoutMs = 60_000): RefResolution {
  if (COMMIT.test(ref)) return { kind: "commit", commit: ref, from: "pinned" };
  let output: string;
  try {
    output = execFileSync("git", ["ls-remote", "--", url, ref, `${ref}^{}`], {
      encoding: "utf8",
      timeout: timeoutMs,
      stdio: ["ignore", "pipe", "pipe"],
      // Never prompt for credentials: a private repository the hosts reach with their own keys
      // is simply left to them.
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: "ssh -o BatchMode=yes" },
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    return { kind: "unresolved", why: (stderr.trim().split("\n").pop() ?? String(error)).slice(0, 300) };
  }
  const commit = commitForRef(parseLsRemote(output), ref);
  if (!commit) {
    throw new Error(
      `git source ${url}: ref "${ref}" is not a branch or tag there; give a branch, tag or full commit`,
    );
  }
  return { kind: "commit", commit, from: "ls-remote" };
}

/** The source with its ref replaced by the resolved commit (other sources as they are). */
export function pinSource(source: SourceSpec, resolution: RefResolution | undefined): SourceSpec {
  if (source.kind !== "git" || resolution?.kind !== "commit") return source;
  return { ...source, ref: resolution.commit };
}
