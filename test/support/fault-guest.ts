/**
 * The guest and stack the fault tests (test/faults/) deploy onto: a Debian guest with the stand-in
 * netmap and vale-ctl staged, whose test NIC is there at every boot (faults reboot it), and the
 * clean-up of a stack a fault may have left locked.
 */
import type { HostSession } from "../../components/host";
import { startGuestHosts, type GuestHost } from "../fixtures/guest-host";
import type { EngineStack } from "./engine";
import { guestHostSession, guestShell, stageFakeNetmap, stageFakeValeCtl } from "./fake-netmap-hosts";

/** What a guest gets to come back after a reboot (its boot measured ~25 s under TCG; a busy machine triples it). */
export const REBOOT_BOUND_MS = 300_000;

export async function startFaultGuest(name: string): Promise<{ host: GuestHost; session: HostSession }> {
  const [host] = await startGuestHosts({ names: [name] });
  if (!host) throw new Error(`no guest ${name}`);
  const session = guestHostSession(host);
  await stageFakeNetmap(session);
  await stageFakeValeCtl(session);
  // As a real host's NIC would be: its driver loads at boot (through the depmod override, the
  // patched one once it is installed).
  await guestShell(session, "echo dummy > /etc/modules-load.d/zz-nmtb-test-dummy.conf");
  return { host, session };
}

/** Cancels what a killed run left locked, destroys the stack's resources and removes the stack. */
export async function disposeFaultStack(engine: EngineStack): Promise<void> {
  await engine.cli(["cancel", "--yes"]).catch(() => undefined);
  await engine.destroy().catch(() => undefined);
  await engine.dispose();
}
