/**
 * Pinned SSH host keys. The key line is what `ssh-keyscan -t ed25519 HOST` or
 * /etc/ssh/ssh_host_ed25519_key.pub shows: TYPE BASE64 [COMMENT]. The base64 blob starts with the
 * key type again (RFC 4253 §6.6: string "ssh-ed25519", …); checking that both agree catches keys
 * pasted from the wrong line or truncated.
 */

import { blobKeyType } from "../host/host-key";

export const HOST_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HOW =
  "copy the line from `ssh-keyscan -t ed25519 HOST` (without the host name) or from /etc/ssh/ssh_host_ed25519_key.pub";

/** The type string embedded at the start of an SSH public key blob (the session's own reader). */
export const embeddedKeyType = blobKeyType;

/** The RFC 4251 strings of a blob, in order; undefined when one runs past the end. */
function blobStrings(blob: Buffer): Buffer[] | undefined {
  const strings: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    strings.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return strings;
}

/** ECDSA curves: the curve name the blob repeats and the length of its uncompressed point (0x04 ‖ X ‖ Y). */
const ECDSA_POINT_BYTES: Readonly<Record<string, number>> = { nistp256: 65, nistp384: 97, nistp521: 133 };
/** Smaller RSA moduli are refused by current OpenSSH, so such a pin could never match. */
const MIN_RSA_BITS = 1024;

/** Why a blob of a known type is not a complete public key of that type, or undefined when it is. */
function blobProblem(type: string, fields: readonly Buffer[]): string | undefined {
  const [, ...rest] = fields;
  if (type === "ssh-ed25519") {
    return rest.length === 1 && rest[0].length === 32 ? undefined : "an ed25519 key is 32 bytes";
  }
  if (type.startsWith("ecdsa-sha2-")) {
    const curve = type.slice("ecdsa-sha2-".length);
    const point = ECDSA_POINT_BYTES[curve];
    if (rest.length !== 2 || rest[0].toString("latin1") !== curve)
      return `a ${type} key names its curve ${curve}`;
    return rest[1].length === point && rest[1][0] === 4 ? undefined : `a ${curve} point is ${point} bytes`;
  }
  // ssh-rsa: mpint e, mpint n.
  if (rest.length !== 2 || rest[0].length === 0) return "an RSA key is an exponent and a modulus";
  const modulus = rest[1][0] === 0 ? rest[1].subarray(1) : rest[1];
  return modulus.length * 8 >= MIN_RSA_BITS ? undefined : `an RSA modulus has at least ${MIN_RSA_BITS} bits`;
}

export function checkHostKey(line: string): string | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 2) return `hostKey must be "TYPE BASE64 [COMMENT]"; ${HOW}`;
  const [type, data] = fields;
  if (!(HOST_KEY_TYPES as readonly string[]).includes(type)) {
    return `hostKey type "${type}" is not supported: use one of ${HOST_KEY_TYPES.join(", ")}; ${HOW}`;
  }
  if (!BASE64.test(data) || data.length % 4 !== 0) return `hostKey data is not valid base64; ${HOW}`;
  const blob = Buffer.from(data, "base64");
  const embedded = embeddedKeyType(blob);
  if (embedded === undefined) return `hostKey data is not an SSH public key (too short or malformed); ${HOW}`;
  if (embedded !== type) {
    return `hostKey says "${type}" but its data is a "${embedded}" key; ${HOW}`;
  }
  // A key cut short (at a base64 boundary, say) still decodes and still starts with its type:
  // only its full structure tells it is incomplete.
  const strings = blobStrings(blob);
  const problem = strings === undefined ? "its data ends inside a field" : blobProblem(type, strings);
  if (problem !== undefined) return `hostKey is not a complete ${type} key (${problem}): truncated? ${HOW}`;
  return undefined;
}
