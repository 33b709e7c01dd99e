/**
 * Stable short hashes over canonical JSON: the basis of every build key. Canonical means object
 * keys sorted at every depth, so two settings that differ only in the order a user wrote them hash
 * the same, while any change of value changes the hash.
 */
import { createHash } from "node:crypto";

/** Hex characters kept from the sha256: 64 bits, plenty to tell builds apart on a host. */
export const SHORT_HASH_LENGTH = 16;

/** A JSON value; `undefined` object members are dropped, as JSON.stringify does. */
export type Canonicalizable =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly Canonicalizable[]
  | { readonly [key: string]: Canonicalizable };

export function canonicalJson(value: Canonicalizable): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) {
      // JSON would silently turn these into null, making distinct inputs collide.
      throw new Error(`canonicalJson: ${value} has no JSON form`);
    }
    return JSON.stringify(value ?? null);
  }
  if (isArray(value)) {
    return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  }
  const members = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
  return `{${members.join(",")}}`;
}

/** sha256 of the canonical JSON, first 16 hex characters. */
export function configKey(value: Canonicalizable): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, SHORT_HASH_LENGTH);
}

// Array.isArray does not narrow readonly arrays out of a union.
function isArray(value: object): value is readonly Canonicalizable[] {
  return Array.isArray(value);
}
