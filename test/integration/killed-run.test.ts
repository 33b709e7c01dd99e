/**
 * Nothing outlives a killed test run. A process that booted a guest (startGuestHosts) and a
 * network-namespace host (createNetnsLab) is killed with SIGKILL, which runs no exit hook:
 * - its watchdogs (test/support/watchdog.sh) remove the guest's QEMU, the namespace's sshd, the
 *   namespace, its bridge and all state within a bounded time;
 * - if the watchdogs were killed too, the next run's start (test/support/global-setup.ts) removes
 *   the same by the owner recorded with them;
 * - processes no fixture tracks die with the jest run that tagged them (NMTB_TEST_RUN).
 *
 * The killed process is test/support/killed-run-child.ts; this process only builds the base image
 * (so a child's boot is bounded by the boot timeout alone) and watches. Needs root. ~1 min warm
 * under TCG (two guests booting in parallel).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";

import { cleanupStaleGuestRuns, ensureBaseImage } from "../fixtures/guest-host";
import { cleanupStaleNetnsLabs } from "../fixtures/netns-hosts";
import { READY, type KilledRunChild } from "../support/killed-run-child";
import { processStartTime, RUN_TAG, watchdogIntervalS, WATCHDOG } from "../support/run-owner";

const ROOT = path.resolve(__dirname, "..", "..");
const CHILD = path.join(ROOT, "test", "support", "killed-run-child.ts");
const BOOT_TIMEOUT_S = Number(process.env.NMTB_GUEST_BOOT_TIMEOUT) || 300;
/** Two looks at the dead owner, plus stop-host.sh's TERM-then-KILL (5 s) and the netns teardown. */
const REAP_BOUND_MS = (2 * watchdogIntervalS() + 25) * 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Processes (pid: argv) whose command line has an argument containing `needle`. */
function processesNaming(needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "");
      if (argv.some((arg) => arg.includes(needle))) found.push(`${entry}: ${argv.join(" ")}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Running (a zombie has finished: only its exit status waits for its parent). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function netnsNames(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0]!)
    .filter((name) => name !== "");
}

function linkExists(name: string): boolean {
  return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).includes(`: ${name}:`);
}

function netnsPids(namespace: string): number[] {
  try {
    return execFileSync("ip", ["netns", "pids", namespace], { encoding: "utf8", timeout: 10_000 })
      .split("\n")
      .filter((line) => line !== "")
      .map(Number);
  } catch {
    return []; // the namespace is gone
  }
}

/** Resolves when the port answers with an SSH banner; rejects after `timeoutMs`. */
function sshBanner(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`no SSH banner on 127.0.0.1:${port} within ${timeoutMs} ms (got ${JSON.stringify(data)})`),
      );
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
      if (data.includes("\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.split("\n")[0]!.trim());
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A test process to kill: boots a guest and a namespace host, then waits. */
class Child {
  private out = "";
  private err = "";
  private consoleCopy = "";
  info: KilledRunChild | undefined;
  private readonly proc: ChildProcess;

  constructor() {
    this.proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", CHILD], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc.stdout?.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
    this.proc.stderr?.on("data", (chunk: Buffer) => (this.err += chunk.toString()));
  }

  /** Resolves with what the child started once both hosts are up; bounded by the boot timeout. */
  async ready(): Promise<KilledRunChild> {
    const deadline = Date.now() + (BOOT_TIMEOUT_S + 120) * 1000;
    while (!this.out.includes("\n")) {
      if (this.exited()) {
        const how = this.proc.exitCode ?? this.proc.signalCode;
        throw new Error(`the child exited (${how}) before it was ready\n${this.context()}`);
      }
      if (Date.now() > deadline) throw new Error(`the child was not ready in time\n${this.context()}`);
      await sleep(250);
    }
    const line = this.out.split("\n")[0]!;
    if (!line.startsWith(READY)) throw new Error(`unexpected child output: ${line}\n${this.context()}`);
    this.info = JSON.parse(line.slice(READY.length)) as KilledRunChild;
    this.readConsole();
    return this.info;
  }

  exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  kill(): void {
    if (!this.exited()) this.proc.kill("SIGKILL");
  }

  /** The guest's console (the last copy once the state dir is gone). */
  readConsole(): string {
    const log = this.info?.guest.consoleLog;
    if (log && existsSync(log)) this.consoleCopy = readFileSync(log, "utf8");
    return this.consoleCopy;
  }

  context(): string {
    return `--- child stderr (tail) ---\n${tail(this.err)}\n--- guest console (tail) ---\n${tail(this.readConsole())}`;
  }

  /** Everything the child started is there, and guarded by one watchdog each; returns the sshd pids. */
  async expectRunning(): Promise<number[]> {
    const { guest, netns } = this.info!;
    expect(await sshBanner(guest.port, 20_000)).toMatch(/^SSH-2\.0-/);
    expect(alive(guest.qemuPid)).toBe(true);
    expect(readFileSync(`/proc/${guest.qemuPid}/cmdline`, "utf8")).toContain(`${guest.stateDir}/`);
    expect(netnsNames()).toContain(netns.namespace);
    expect(linkExists(netns.bridge)).toBe(true);
    const sshds = netnsPids(netns.namespace);
    expect(sshds.length).toBeGreaterThan(0);
    expect(this.watchdogs().map((w) => w.mode)).toEqual(["guest-run", "netns-lab"]);
    return sshds;
  }

  /** This child's watchdog processes (pid, mode), guest-run first. */
  watchdogs(): { pid: number; mode: string }[] {
    const { guest, netns } = this.info!;
    return processesNaming(WATCHDOG)
      .filter((p) => p.includes(` ${guest.runDir}`) || p.includes(` ${netns.labId} `))
      .map((p) => ({
        pid: Number(p.split(":")[0]),
        mode: p.includes(guest.runDir) ? "guest-run" : "netns-lab",
      }))
      .sort((a, b) => a.mode.localeCompare(b.mode));
  }

  /** What is left of what the child started (empty when everything is gone). */
  leftovers(sshds: readonly number[]): string[] {
    const { guest, netns } = this.info!;
    return [
      ...(alive(guest.qemuPid) ? [`QEMU pid ${guest.qemuPid}`] : []),
      ...processesNaming(`${guest.runDir}/`).map((p) => `process naming the guest run dir: ${p}`),
      ...processesNaming(`${netns.labDir}/`).map((p) => `process naming the lab dir: ${p}`),
      ...sshds.filter(alive).map((pid) => `sshd pid ${pid} of ${netns.namespace}`),
      ...this.watchdogs().map((w) => `${w.mode} watchdog pid ${w.pid}`),
      ...(netnsNames().includes(netns.namespace) ? [`namespace ${netns.namespace}`] : []),
      ...(linkExists(netns.bridge) ? [`bridge ${netns.bridge}`] : []),
      ...(existsSync(guest.runDir) ? [`guest run dir ${guest.runDir}`] : []),
      ...(existsSync(netns.labDir) ? [`lab dir ${netns.labDir}`] : []),
    ];
  }

  /** Removes whatever is left, without the code under test (for afterAll, whatever failed). */
  cleanup(): void {
    this.kill();
    if (!this.info) return;
    const { guest, netns } = this.info;
    const pids = [
      ...processesNaming(`${guest.runDir}/`),
      ...processesNaming(`${netns.labDir}/`),
      ...processesNaming(WATCHDOG).filter((p) => p.includes(guest.runDir) || p.includes(netns.labId)),
    ].map((p) => Number(p.split(":")[0]));
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    rmSync(guest.runDir, { recursive: true, force: true });
    try {
      execFileSync("bash", [path.join(ROOT, "test/fixtures/netns/netns-lab.sh"), "destroy", netns.labId], {
        stdio: "ignore",
        timeout: 60_000,
      });
    } finally {
      rmSync(netns.labDir, { recursive: true, force: true });
    }
  }
}

/** Polls `leftovers` until it is empty or `boundMs` has passed; returns the last answer. */
async function whatIsLeft(leftovers: () => string[], boundMs: number): Promise<string[]> {
  const start = Date.now();
  let left = leftovers();
  while (left.length > 0 && Date.now() - start < boundMs) {
    await sleep(500);
    left = leftovers();
  }
  return left;
}

/** Runs `work`; a failure carries the child's stderr and the guest's console tail. */
async function withContext(child: Child, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${child.context()}`);
  }
}

const CHILD_TEST_TIMEOUT_MS = (BOOT_TIMEOUT_S + 300) * 1000;

describe("a killed test run leaves no guest, namespace or sshd behind", () => {
  const children: Child[] = [];
  const started: number[] = [];
  let watched: Child;
  let orphaned: Child;

  // Both children boot at once: two guests in parallel take less time than one after the other.
  beforeAll(async () => {
    await ensureBaseImage();
    watched = new Child();
    orphaned = new Child();
    children.push(watched, orphaned);
  }, 25 * 60_000);

  afterAll(() => {
    for (const child of children) child.cleanup();
    for (const pid of started) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }, 120_000);

  it(
    "its watchdogs kill the guest's QEMU and the namespace's sshd, and delete the namespace and the state",
    async () => {
      const child = watched;
      await withContext(child, async () => {
        await child.ready();
        const sshds = await child.expectRunning();

        child.kill();
        const left = await whatIsLeft(() => child.leftovers(sshds), REAP_BOUND_MS);
        expect({ afterMs: REAP_BOUND_MS, left }).toEqual({ afterMs: REAP_BOUND_MS, left: [] });
      });
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  it(
    "with its watchdogs killed too, the next run's start reaps its leftovers by their recorded owner",
    async () => {
      const child = orphaned;
      await withContext(child, async () => {
        const { guest, netns } = await child.ready();
        const sshds = await child.expectRunning();

        for (const w of child.watchdogs()) process.kill(w.pid, "SIGKILL");
        child.kill();
        // Nothing else removes them (this jest run, whose tag they carry, is alive).
        await sleep((2 * watchdogIntervalS() + 2) * 1000);
        expect(child.leftovers(sshds)).toEqual(
          expect.arrayContaining([`QEMU pid ${guest.qemuPid}`, `namespace ${netns.namespace}`]),
        );

        // What global-setup.ts runs before every jest run.
        expect(await cleanupStaleGuestRuns()).toContain(guest.runDir);
        expect(await cleanupStaleNetnsLabs()).toContain(netns.labId);
        const left = await whatIsLeft(() => child.leftovers(sshds), 10_000);
        expect({ left }).toEqual({ left: [] });
      });
    },
    CHILD_TEST_TIMEOUT_MS,
  );

  it("processes no fixture tracks die with the jest run whose tag they carry, and only those", async () => {
    const detached = (env: NodeJS.ProcessEnv): number => {
      const p = spawn("sleep", ["600"], { detached: true, stdio: "ignore", env });
      p.unref();
      started.push(p.pid!);
      return p.pid!;
    };
    // A stand-in for a jest run, a process it tagged, and one tagged by this (live) run.
    const owner = detached({ ...process.env, [RUN_TAG]: "" });
    const token = `${owner}:${processStartTime(owner)}`;
    const tagged = detached({ ...process.env, [RUN_TAG]: token });
    const bystander = detached({ ...process.env });
    expect(process.env[RUN_TAG]).toMatch(/^\d+:\d+$/);
    const env = { ...process.env };
    delete env[RUN_TAG];
    const watchdog = spawn("bash", [WATCHDOG, "tagged", token, String(watchdogIntervalS())], {
      detached: true,
      stdio: "ignore",
      env,
    });
    watchdog.unref();
    started.push(watchdog.pid!);
    await sleep(500);
    expect([alive(owner), alive(tagged), alive(watchdog.pid!)]).toEqual([true, true, true]);

    process.kill(owner, "SIGKILL");
    const left = await whatIsLeft(
      () => [
        ...(alive(tagged) ? [`tagged pid ${tagged}`] : []),
        ...(alive(watchdog.pid!) ? [`watchdog pid ${watchdog.pid!}`] : []),
      ],
      REAP_BOUND_MS,
    );
    expect(left).toEqual([]);
    expect(alive(bystander)).toBe(true);
  }, 60_000);
});
