/**
 * The test process that test/integration/killed-run.test.ts kills with SIGKILL: boots one guest
 * (startGuestHosts) and one network-namespace host (createNetnsLab) as any test would, prints
 * one JSON line describing them, then waits to be killed. Run with
 * `node -r ts-node/register/transpile-only test/support/killed-run-child.ts`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { startGuestHosts } from "../fixtures/guest-host";
import { createNetnsLab } from "../fixtures/netns-hosts";

/** What the child prints once both hosts are up (one line, prefixed by {@link READY}). */
export interface KilledRunChild {
  pid: number;
  guest: {
    name: string;
    port: number;
    stateDir: string;
    runDir: string;
    qemuPid: number;
    consoleLog: string;
  };
  netns: { labId: string; labDir: string; namespace: string; bridge: string; sshdLog: string };
}

export const READY = "killed-run-child ready: ";

async function main(): Promise<void> {
  const [guest] = await startGuestHosts({ names: ["nmtb-killed"], memoryMiB: 1024 });
  const lab = await createNetnsLab({ hosts: 1, prefix: "kill" });
  const stateDir = path.dirname(guest!.consoleLog);
  const host = lab.hosts[0]!;
  const ready: KilledRunChild = {
    pid: process.pid,
    guest: {
      name: guest!.name,
      port: guest!.port,
      stateDir,
      runDir: path.dirname(stateDir),
      qemuPid: Number(readFileSync(path.join(stateDir, "qemu.pid"), "utf8").trim()),
      consoleLog: guest!.consoleLog,
    },
    netns: {
      labId: lab.id,
      labDir: path.dirname(host.dir),
      namespace: host.namespace,
      bridge: lab.bridge,
      sshdLog: host.sshdLog,
    },
  };
  process.stdout.write(`${READY}${JSON.stringify(ready)}\n`);
  // Hold on to everything until killed; the parent gives up on its own bounded wait.
  setInterval(() => undefined, 60_000);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `killed-run-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
