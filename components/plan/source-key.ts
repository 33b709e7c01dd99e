import type { SourceSpec } from "../topology/model";

/**
 * What of a source goes into a config key. A source on the controller is keyed by its contents
 * alone (the digest of the archive the hosts get): where the files lie on this machine (another
 * checkout, another user's home) must not rebuild anything, and changed files must, which for
 * QEMU is only through this key (its prefix is the key's).
 */
export function sourceKeyPart(
  source: SourceSpec,
): Exclude<SourceSpec, { kind: "path" }> | { readonly kind: "path"; readonly sha256?: string } {
  return source.kind === "path" ? { kind: "path", sha256: source.sha256 } : source;
}
