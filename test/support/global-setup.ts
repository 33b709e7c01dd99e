/**
 * Jest global setup (jest.config.js): before any test, removes what earlier runs that died
 * without cleaning up left behind (each thing by its recorded owner, only when that owner is
 * gone), then tags this run and starts its watchdog.
 *
 * The tag: every process this run starts inherits NMTB_TEST_RUN=<jest's pid:start time>, so the
 * run's watchdog (test/support/watchdog.sh tagged) can kill, once jest is gone, what no fixture
 * tracks, e.g. the QEMU that LocalLabHost's boot-host.sh daemonizes in the local-lab test.
 */
import { cleanupStaleGuestRuns } from "../fixtures/guest-host";
import { cleanupStaleNetnsLabs } from "../fixtures/netns-hosts";
import { currentOwner, ownerToken, reapTaggedLeftovers, RUN_TAG, startWatchdog } from "./run-owner";

export default async function globalSetup(): Promise<void> {
  const reaped = [
    ...(await reapTaggedLeftovers()).map((token) => `processes of run ${token}`),
    ...(await cleanupStaleGuestRuns()),
  ];
  // Namespaces need root; without root no run could have made any.
  if (process.getuid?.() === 0) {
    try {
      reaped.push(...(await cleanupStaleNetnsLabs()).map((id) => `netns lab ${id}`));
    } catch (error) {
      // No iproute2 yet (a unit-test run before the set-up): the tests that need it will say so.
      process.stderr.write(`\ncannot look for leftover netns labs: ${(error as Error).message}\n`);
    }
  }
  if (reaped.length > 0) {
    process.stderr.write(`\nremoved leftovers of earlier test runs: ${reaped.join(", ")}\n`);
  }
  process.env[RUN_TAG] = ownerToken(currentOwner());
  startWatchdog("tagged", []);
}
