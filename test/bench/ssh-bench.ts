/**
 * Benchmark: N short commands (`true`) to one real namespace host, through one HostSession
 * (one connection, capped channels) versus a fresh SSH connection per command (the model
 * @pulumi/command's remote.Command uses), same host, same run. Prints figures; asserts nothing.
 *
 *     npm run bench:ssh
 *     BENCH_COMMANDS=500 BENCH_CONCURRENCY=4 npm run bench:ssh
 *
 * Needs root (it creates a network-namespace host with its own sshd).
 */
import { Client } from "ssh2";

import { HostSession, hostKeyAlgorithmsFor, parseOpenSshPublicKey } from "../../components/host";
import { createNetnsLab, type NetnsHost, type NetnsLab } from "../fixtures/netns-hosts";

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

interface Figures {
  label: string;
  perCommandMs: number[];
  wallMs: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `count` tasks, at most `concurrency` at once, and returns each task's duration. */
async function timed(
  count: number,
  concurrency: number,
  task: () => Promise<void>,
): Promise<Figures["perCommandMs"]> {
  const durations: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const started = performance.now();
      await task();
      durations.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return durations;
}

async function viaSession(host: NetnsHost): Promise<Figures> {
  const session = new HostSession({
    name: host.name,
    address: host.address,
    hostKey: host.hostKey,
    credentials: { privateKey: host.privateKey },
    maxChannels: CONCURRENCY,
  });
  try {
    const started = performance.now();
    // The session opens its connection on the first command; that cost is part of the figures.
    const perCommandMs = await timed(COMMANDS, CONCURRENCY, async () => {
      await session.runChecked("bench", ["true"]);
    });
    return {
      label: "one HostSession (shared connection)",
      perCommandMs,
      wallMs: performance.now() - started,
    };
  } finally {
    await session.close();
  }
}

/** One connection per command: connect, verify the pinned key, authenticate, exec, disconnect. */
function freshConnectionCommand(host: NetnsHost): Promise<void> {
  const pinned = parseOpenSshPublicKey(host.hostKey);
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () => {
        client.exec("true", (error, channel) => {
          if (error) {
            client.end();
            reject(error);
            return;
          }
          channel.on("exit", (code: number | null) => {
            if (code !== 0) {
              reject(new Error(`exit ${code}`));
            }
          });
          channel.on("close", () => {
            client.end();
            resolve();
          });
          channel.resume();
          channel.stderr.resume();
          channel.end();
        });
      })
      .on("error", reject)
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: host.privateKey,
        readyTimeout: 20_000,
        hostVerifier: (key: Buffer) => key.equals(pinned.blob),
        algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.type) },
      });
  });
}

async function viaFreshConnections(host: NetnsHost): Promise<Figures> {
  const started = performance.now();
  const perCommandMs = await timed(COMMANDS, CONCURRENCY, () => freshConnectionCommand(host));
  return { label: "fresh connection per command", perCommandMs, wallMs: performance.now() - started };
}

function report(figures: Figures): string {
  const median = percentile(figures.perCommandMs, 50);
  const p90 = percentile(figures.perCommandMs, 90);
  return (
    `${figures.label.padEnd(38)} median ${median.toFixed(1).padStart(7)} ms/command  ` +
    `p90 ${p90.toFixed(1).padStart(7)} ms  wall ${(figures.wallMs / 1000).toFixed(2).padStart(6)} s  ` +
    `(${(figures.wallMs / COMMANDS).toFixed(1)} ms/command amortized)`
  );
}

async function main(): Promise<void> {
  let lab: NetnsLab | undefined;
  const abort = (): void => {
    void (lab?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", abort);
  process.once("SIGTERM", abort);
  try {
    lab = await createNetnsLab({ hosts: 1, prefix: "bn" });
    const host = lab.hosts[0];
    console.log(
      `ssh bench: ${COMMANDS} x \`true\` to ${host.name} (${host.address}, OpenSSH in a network namespace), ` +
        `concurrency ${CONCURRENCY}`,
    );
    const session = await viaSession(host);
    const fresh = await viaFreshConnections(host);
    console.log(report(session));
    console.log(report(fresh));
    const medianRatio = percentile(fresh.perCommandMs, 50) / percentile(session.perCommandMs, 50);
    console.log(
      `ratio fresh/session: median ${medianRatio.toFixed(2)}x, wall ${(fresh.wallMs / session.wallMs).toFixed(2)}x`,
    );
  } finally {
    await lab?.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
