/**
 * Pinned SSH host keys. The key line is what `ssh-keyscan -t ed25519 HOST` or
 * /etc/ssh/ssh_host_ed25519_key.pub shows: TYPE BASE64 [COMMENT]. The base64 blob starts with the
 * key type again (RFC 4253 §6.6: string "ssh-ed25519", …); checking that both agree catches keys
 * pasted from the wrong line or truncated.
 */

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

/** The type string embedded at the start of an SSH public key blob, or undefined if there is none. */
export function embeddedKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

export function checkHostKey(line: string): string | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 2) return `hostKey must be "TYPE BASE64 [COMMENT]"; ${HOW}`;
  const [type, data] = fields;
  if (!(HOST_KEY_TYPES as readonly string[]).includes(type)) {
    return `hostKey type "${type}" is not supported: use one of ${HOST_KEY_TYPES.join(", ")}; ${HOW}`;
  }
  if (!BASE64.test(data) || data.length % 4 !== 0) return `hostKey data is not valid base64; ${HOW}`;
  const embedded = embeddedKeyType(Buffer.from(data, "base64"));
  if (embedded === undefined) return `hostKey data is not an SSH public key (too short or malformed); ${HOW}`;
  if (embedded !== type) {
    return `hostKey says "${type}" but its data is a "${embedded}" key; ${HOW}`;
  }
  return undefined;
}
