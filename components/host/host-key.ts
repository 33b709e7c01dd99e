/**
 * Pinned host keys: parsing OpenSSH public key lines and formatting fingerprints
 * exactly as `ssh-keygen -l` prints them, so users can compare them by eye.
 */
import { createHash } from "node:crypto";
import type { ServerHostKeyAlgorithm } from "ssh2";

/** A parsed OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
export interface OpenSshPublicKey {
  /** Key type from the line, e.g. `ssh-ed25519`. */
  type: string;
  /** The decoded key blob (the bytes an SSH server presents during key exchange). */
  blob: Buffer;
  /** Comment after the key, if any. */
  comment?: string;
}

/** Thrown when a pinned host key is not a well-formed OpenSSH public key line. */
export class HostKeyFormatError extends Error {
  override readonly name = "HostKeyFormatError";
}

const KEY_TYPES: Readonly<Record<string, readonly ServerHostKeyAlgorithm[]>> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  // An RSA key is presented under any of its signature algorithms.
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** Reads the SSH wire-format string at the start of a key blob (its embedded key type). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) {
    return undefined;
  }
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) {
    return undefined;
  }
  return blob.subarray(4, 4 + length).toString("latin1");
}

/**
 * Parses one OpenSSH public key line (as in `known_hosts` without the host field,
 * `ssh-keyscan` output without the host field, or a `*.pub` file).
 * A leading host field from `ssh-keyscan` output (`host ssh-ed25519 AAAA…`) is accepted and ignored.
 */
export function parseOpenSshPublicKey(line: string): OpenSshPublicKey {
  const fields = line.trim().split(/\s+/);
  if (fields.length >= 3 && !(fields[0] in KEY_TYPES) && fields[1] in KEY_TYPES) {
    fields.shift();
  }
  const [type, base64, ...comment] = fields;
  if (!type || !(type in KEY_TYPES)) {
    throw new HostKeyFormatError(
      `unsupported or missing key type ${JSON.stringify(type ?? "")}; expected one of ${Object.keys(KEY_TYPES).join(", ")}`,
    );
  }
  if (!base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new HostKeyFormatError(`the ${type} key has no valid base64 key data`);
  }
  const blob = Buffer.from(base64, "base64");
  const embedded = blobKeyType(blob);
  if (embedded !== type) {
    throw new HostKeyFormatError(
      `key data says ${JSON.stringify(embedded ?? "(unreadable)")} but the line says ${type}; the line is corrupt`,
    );
  }
  return comment.length > 0 ? { type, blob, comment: comment.join(" ") } : { type, blob };
}

/** OpenSSH SHA256 fingerprint of a key blob: `SHA256:` + unpadded base64 of the digest. */
export function sha256Fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The host key algorithms to offer so that the server presents a key of the pinned type. */
export function hostKeyAlgorithmsFor(type: string): ServerHostKeyAlgorithm[] {
  const algorithms = KEY_TYPES[type];
  if (!algorithms) {
    throw new HostKeyFormatError(`unsupported host key type ${type}`);
  }
  return [...algorithms];
}

/** Describes a presented key for error messages: `SHA256:… (ssh-ed25519)`. */
export function describeKey(blob: Buffer): string {
  return `${sha256Fingerprint(blob)} (${blobKeyType(blob) ?? "unknown type"})`;
}
