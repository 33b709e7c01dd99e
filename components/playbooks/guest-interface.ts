/** Finds a guest's interface by MAC (the planner gave each VM NIC a fixed MAC; guest names vary). */
import type { Machine } from "./machines";

const FIND_BY_MAC =
  'for d in /sys/class/net/*; do [ "$(cat "$d/address" 2>/dev/null)" = "$1" ] && { basename "$d"; exit 0; }; done; exit 1';

export async function guestInterfaceByMac(machine: Machine, mac: string): Promise<string> {
  const result = await machine.session.run(
    "find-interface",
    ["sh", "-c", FIND_BY_MAC, "sh", mac.toLowerCase()],
    {
      timeoutMs: 15_000,
    },
  );
  const name = result.stdout.trim().split("\n")[0] ?? "";
  if (result.code !== 0 || name === "") {
    throw new Error(
      `${machine.name}: no interface with MAC ${mac}; is the ptnet NIC bound (netmap.ko loaded in the guest)? ` +
        `Or name it with interface: in the playbook endpoint`,
    );
  }
  return name;
}
