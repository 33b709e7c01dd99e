/** How a remote host is reached: address, SSH user. */
import { isIPv4, isIPv6 } from "node:net";

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = (name.endsWith(".") ? name.slice(0, -1) : name).split(".");
  // An all-numeric last label is a mistyped IPv4 address, not a name.
  if (/^\d+$/.test(labels[labels.length - 1])) return false;
  return labels.every((label) => DNS_LABEL.test(label));
}

export function checkAddress(address: string): string | undefined {
  if (isIPv4(address) || isIPv6(address) || isDnsName(address)) return undefined;
  if (address.includes("@"))
    return `address "${address}" contains a user; put the user in user: and keep only the host here`;
  if (/^[^:]+:\d+$/.test(address))
    return `address "${address}" contains a port; put the port in port: and keep only the host here`;
  return `address "${address}" is not an IPv4 address, an IPv6 address or a DNS name; write e.g. 192.0.2.11 or h1.lab.example`;
}

const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export function checkUser(user: string): string | undefined {
  if (POSIX_USER.test(user)) return undefined;
  return `user "${user}" is not a valid login name: use lower-case letters, digits, "_" or "-", starting with a letter or "_"`;
}
