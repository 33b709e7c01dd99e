/**
 * Host keys the topology does not carry: guests (their sshd makes its key at first boot) and
 * local-lab hosts (address and key known only once the lab runs).
 *
 * - A host-key file (`--host-key-file`): one line per machine, `NAME [ADDRESS:PORT] TYPE BASE64
 *   [COMMENT]`; `#` starts a comment. ADDRESS:PORT is needed for local-lab hosts only.
 * - A guest's console: cloud-init prints the guest's public host keys between
 *   `-----BEGIN SSH HOST KEY KEYS-----` and `-----END SSH HOST KEY KEYS-----` on the serial console,
 *   which QEMU writes to a file on the host. Read over the host's pinned connection, it is an
 *   out-of-band channel the guest's network cannot forge.
 */
import { HOST_KEY_TYPES } from "../topology/host-key";

export interface KnownMachineKey {
  readonly name: string;
  readonly hostKey: string;
  readonly address?: string;
  readonly port?: number;
}

function isKeyType(word: string): boolean {
  return (HOST_KEY_TYPES as readonly string[]).includes(word);
}

/** Parses a host-key file; throws with `FILE:LINE: message` for a malformed line. */
export function parseHostKeyFile(text: string, file: string): Map<string, KnownMachineKey> {
  const keys = new Map<string, KnownMachineKey>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const words = line.split(/\s+/);
    const [name, second] = words;
    let rest = words.slice(1);
    let address: string | undefined;
    let port: number | undefined;
    if (second !== undefined && !isKeyType(second)) {
      const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(second);
      if (!m) {
        throw new Error(
          `${file}:${index + 1}: expected NAME [ADDRESS:PORT] TYPE BASE64, got ${JSON.stringify(raw)}`,
        );
      }
      address = m[1].replace(/^\[|\]$/g, "");
      port = Number(m[2]);
      rest = words.slice(2);
    }
    if (rest.length < 2 || !isKeyType(rest[0])) {
      throw new Error(
        `${file}:${index + 1}: expected a key "TYPE BASE64" (TYPE one of ${HOST_KEY_TYPES.join(", ")}) after the name`,
      );
    }
    keys.set(name, {
      name,
      hostKey: `${rest[0]} ${rest[1]}`,
      ...(address === undefined ? {} : { address, port }),
    });
  });
  return keys;
}

/** The preferred host key from cloud-init's console block (ed25519 first), or undefined. */
export function hostKeyFromConsole(consoleLog: string): string | undefined {
  const begin = consoleLog.lastIndexOf("-----BEGIN SSH HOST KEY KEYS-----");
  if (begin < 0) return undefined;
  const end = consoleLog.indexOf("-----END SSH HOST KEY KEYS-----", begin);
  if (end < 0) return undefined;
  const keys = consoleLog
    .slice(begin, end)
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words.length >= 2 && isKeyType(words[0]))
    .map((words) => `${words[0]} ${words[1]}`);
  for (const type of HOST_KEY_TYPES) {
    const key = keys.find((candidate) => candidate.startsWith(`${type} `));
    if (key) return key;
  }
  return undefined;
}
