import type { SourceSpec } from "../topology/model";

/**
 * What of a source goes into a config key. A source on the controller is keyed by its contents
 * alone, which enter through the resolved commit (the uploaded archive's sha256): where the file
 * lies on this machine (another checkout, another user's home) must not rebuild anything.
 */
export function sourceKeyPart(source: SourceSpec): SourceSpec | { readonly kind: "path" } {
  return source.kind === "path" ? { kind: "path" } : source;
}
