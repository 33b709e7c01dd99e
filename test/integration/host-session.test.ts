/**
 * The ssh2 host session against real OpenSSH servers in network namespaces.
 * Needs root (CI runs as root); every test fails if the behaviour it names breaks.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";

import {
  HostConnectionError,
  HostSession,
  HostSessionPool,
  HostStepError,
  parseOpenSshPublicKey,
  sha256Fingerprint,
  type HostSessionOptions,
} from "../../components/host";
import { createNetnsLab, type NetnsHost, type NetnsLab } from "../fixtures/netns-hosts";

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");
const fingerprintOf = (line: string): string => sha256Fingerprint(parseOpenSshPublicKey(line).blob);

let lab: NetnsLab;
let host: NetnsHost;
let otherHost: NetnsHost;
let localDir: string;
const sessions: HostSession[] = [];

function sessionFor(target: NetnsHost, overrides: Partial<HostSessionOptions> = {}): HostSession {
  const session = new HostSession({
    name: target.name,
    address: target.address,
    hostKey: target.hostKey,
    credentials: { privateKey: target.privateKey },
    connectTimeoutMs: 5000,
    ...overrides,
  });
  sessions.push(session);
  return session;
}

async function acceptedLogins(target: NetnsHost): Promise<number> {
  const log = await readFile(target.sshdLog, "utf8");
  return log.split("\n").filter((line) => line.includes("Accepted publickey for root")).length;
}

beforeAll(async () => {
  lab = await createNetnsLab({ hosts: 2, prefix: "hs" });
  [host, otherHost] = lab.hosts;
  localDir = await mkdtemp(path.join(tmpdir(), "nmtb-hs-"));
});

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  await lab?.destroy();
  if (localDir) {
    await rm(localDir, { recursive: true, force: true });
  }
});

describe("netns lab fixture", () => {
  it("gives each host its own namespace, address and sshd", async () => {
    const addresses = await host.exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
    expect(addresses.stdout).toContain(`${host.address}/24`);
    const listening = await host.exec(["ss", "-Htln", "sport = :22"]);
    expect(listening.stdout).toContain("0.0.0.0:22");
    expect(new Set(lab.hosts.map((h) => h.namespace)).size).toBe(2);
  });
});

describe("HostSession on a real sshd", () => {
  it("runs a command and returns stdout, stderr and exit code", async () => {
    const session = sessionFor(host);
    const result = await session.run("hello", ["sh", "-c", 'echo "out $1"; echo err >&2; exit 3', "sh", "x"]);
    expect(result).toMatchObject({ code: 3, stdout: "out x\n", stderr: "err\n", truncated: false });
    const ok = await session.run("hostname", ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(host.address); // ran inside the namespace host, not locally
  });

  it("delivers nasty argv values byte-exact without shell injection", async () => {
    const marker = path.join(host.dir, "injected");
    const nasty = [
      "two words",
      "it's",
      '"double"',
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}`,
      `a\nb\n`,
      "",
      "*",
      "$HOME",
      "-n",
      "tab\there",
      "back\\slash",
      "ünïcødé ✓",
      "'; touch " + marker + "; '",
    ];
    const session = sessionFor(host);
    const result = await session.run("argv", ["printf", "%s\\0", ...nasty]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(nasty);
    expect(existsSync(marker)).toBe(false);
  });

  it("delivers environment values exactly", async () => {
    const env = { NM_ONE: "a b 'c' \"d\" $(e) `f` ; g\nh", NM_TWO: "", NM_THREE: "✓=\\" };
    const session = sessionFor(host);
    const result = await session.run("env", ["sh", "-c", 'printf "%s\\0" "$NM_ONE" "$NM_TWO" "$NM_THREE"'], {
      env,
    });
    expect(result.stdout.split("\0").slice(0, -1)).toEqual([env.NM_ONE, env.NM_TWO, env.NM_THREE]);
    await expect(session.run("bad", ["true"], { env: { "A;B": "x" } })).rejects.toThrow(/is invalid/);
  });

  it("caps concurrent channels at 4 for 32 parallel commands over one TCP connection", async () => {
    const counter = path.join(host.dir, "concurrency");
    await writeFile(counter, "0\n");
    await writeFile(`${counter}.log`, "");
    // Each command bumps a server-side counter under flock, then holds its slot until 4 commands are
    // running at once (or 3 s pass, so a too-low cap still finishes), then decrements. With a working
    // cap of 4 the peak is exactly 4 however slow the machine is; a broken cap shows a higher peak.
    const script = [
      'f=$1; flock "$f.lock" sh -c \'n=$(( $(cat "$1") + 1 )); echo $n > "$1"; echo $n >> "$1.log"\' sh "$f"',
      'i=0; while n=$(cat "$f"); [ "${n:-0}" -lt 4 ] && [ $i -lt 150 ]; do sleep 0.02; i=$((i + 1)); done',
      "sleep 0.05",
      'flock "$f.lock" sh -c \'echo $(( $(cat "$1") - 1 )) > "$1"\' sh "$f"',
    ].join("\n");
    const established = async (): Promise<number> =>
      (await host.exec(["ss", "-Htn", "state", "established", "sport = :22"])).stdout
        .split("\n")
        .filter(Boolean).length;
    const establishedBefore = await established();
    const before = await acceptedLogins(host);
    const session = sessionFor(host, { maxChannels: 4 });
    let establishedDuringRun = -1;
    const runs = Array.from({ length: 32 }, (_, i) =>
      session.runChecked(`parallel-${i}`, ["sh", "-c", script, "sh", counter]),
    );
    const sampler = setInterval(() => {
      void established().then((count) => {
        establishedDuringRun = Math.max(establishedDuringRun, count);
      });
    }, 100);
    const results = await Promise.all(runs).finally(() => clearInterval(sampler));
    expect(results).toHaveLength(32);
    expect(results.every((result) => result.code === 0)).toBe(true);
    const levels = readFileSync(`${counter}.log`, "utf8").trim().split("\n").map(Number);
    expect(levels).toHaveLength(32);
    expect(Math.max(...levels)).toBe(4);
    expect(readFileSync(counter, "utf8").trim()).toBe("0");
    expect(session.channelStats).toMatchObject({ limit: 4, maxObserved: 4, connections: 1 });
    expect((await acceptedLogins(host)) - before).toBe(1);
    expect(establishedDuringRun - establishedBefore).toBe(1);
  });

  it("refuses a wrong host key, naming the host and both fingerprints, without retrying", async () => {
    const before = await acceptedLogins(host);
    const session = sessionFor(host, { hostKey: otherHost.hostKey });
    const error = await session.run("never", ["true"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostConnectionError);
    const connectionError = error as HostConnectionError;
    expect(connectionError.failure).toBe("host-key-mismatch");
    expect(connectionError.attempts).toBe(1);
    expect(connectionError.message).toContain(host.name);
    expect(connectionError.message).toContain(`pinned: ${fingerprintOf(otherHost.hostKey)} (ssh-ed25519)`);
    expect(connectionError.message).toContain(`presented: ${fingerprintOf(host.hostKey)} (ssh-ed25519)`);
    expect(await acceptedLogins(host)).toBe(before);
  });

  it("refuses a host without a pinned key (no trust on first use) and shows what it presented", async () => {
    const session = sessionFor(host, { hostKey: undefined });
    const error = (await session.run("never", ["true"]).catch((e: unknown) => e)) as HostConnectionError;
    expect(error).toBeInstanceOf(HostConnectionError);
    expect(error.failure).toBe("host-key-missing");
    expect(error.message).toContain(host.name);
    expect(error.message).toContain("pinned: none");
    expect(error.message).toContain(`presented: ${fingerprintOf(host.hostKey)}`);
  });

  it("fails an unreachable address within the connect timeout with a clear message", async () => {
    const timeoutMs = 2000;
    const session = new HostSession({
      name: "ghost",
      address: lab.unusedAddress,
      hostKey: host.hostKey,
      credentials: { privateKey: host.privateKey },
      connectTimeoutMs: timeoutMs,
    });
    sessions.push(session);
    const started = Date.now();
    const error = (await session.run("never", ["true"]).catch((e: unknown) => e)) as HostConnectionError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(HostConnectionError);
    expect(error.failure).toBe("unreachable");
    expect(error.message).toMatch(
      new RegExp(`host ghost \\(root@${lab.unusedAddress.replace(/\./g, "\\.")}:22\\): unreachable`),
    );
    expect(elapsed).toBeLessThan(timeoutMs + 1000);
  });

  it("retries a closed port with backoff and gives up within the timeout", async () => {
    const timeoutMs = 3000;
    const session = sessionFor(host, { port: 2222, connectTimeoutMs: timeoutMs, retryBackoffMs: 100 });
    const started = Date.now();
    const error = (await session.run("never", ["true"]).catch((e: unknown) => e)) as HostConnectionError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(HostConnectionError);
    expect(error.attempts).toBe(3);
    expect(error.message).toContain("ECONNREFUSED");
    expect(elapsed).toBeGreaterThanOrEqual(300); // 100 ms + 200 ms of backoff
    expect(elapsed).toBeLessThan(timeoutMs + 1000);
  });

  it("reports a non-zero exit as HostStepError with host, step, code and the last 20 lines", async () => {
    const session = sessionFor(host);
    const error = (await session
      .runChecked("build-module", [
        "sh",
        "-c",
        'for i in $(seq 1 30); do echo "line $i"; done; echo oops >&2; exit 7',
      ])
      .catch((e: unknown) => e)) as HostStepError;
    expect(error).toBeInstanceOf(HostStepError);
    expect(error).toMatchObject({ host: host.name, step: "build-module", code: 7 });
    expect(error.message).toContain(`host ${host.name}: step "build-module" failed with exit code 7`);
    expect(error.message).toContain("| oops");
    expect(error.message).toContain("| line 30");
    expect(error.message).toContain("| line 12");
    expect(error.message).not.toContain("| line 11\n");
    expect(error.tail).toHaveLength(20);
  });

  it("a connection lost mid-step names host, step and what the step printed, and the next command reconnects", async () => {
    const session = sessionFor(host);
    // Kills the step's sshd session process (sshd, or sshd-session in OpenSSH 9.8+): the
    // connection drops as it does when sshd dies or the host reboots.
    const killOwnSession =
      'p=$PPID; while [ "$p" -gt 1 ]; do case "$(cat /proc/$p/comm)" in sshd*) break ;; esac; ' +
      "p=$(cut -d' ' -f4 /proc/$p/stat); done; kill -KILL $p";
    const error = (await session
      .run("build-module", [
        "sh",
        "-c",
        `echo configuring; echo compiling >&2; sleep 0.3; ${killOwnSession}; sleep 5`,
      ])
      .catch((e: unknown) => e)) as HostConnectionError;
    expect(error).toBeInstanceOf(HostConnectionError);
    expect(error.failure).toBe("connection-lost");
    expect(error.message).toContain(`host ${host.name}: step "build-module" ended without an exit status`);
    expect(error.message).toContain("| configuring");
    expect(error.message).toContain("| compiling");
    expect((await session.run("after", ["echo", "ok"])).stdout).toBe("ok\n");
  });

  it("kills a step that exceeds its timeout", async () => {
    const session = sessionFor(host);
    const started = Date.now();
    const error = (await session
      .run("hang", ["sh", "-c", "echo started; sleep 30"], { timeoutMs: 500 })
      .catch((e: unknown) => e)) as HostStepError;
    expect(error).toBeInstanceOf(HostStepError);
    expect(error.message).toContain('step "hang" timed out after 500 ms');
    expect(Date.now() - started).toBeLessThan(3000);
    // the connection is still usable
    expect((await session.run("after", ["echo", "ok"])).stdout).toBe("ok\n");
  });

  it("handles 10 MB of output byte-exact", async () => {
    const file = path.join(host.dir, "big.bin");
    const data = randomBytes(10 * 1024 * 1024);
    await writeFile(file, data);
    const session = sessionFor(host);
    const result = await session.run("cat-big", ["cat", file]);
    expect(result.code).toBe(0);
    expect(result.stdoutBytes.length).toBe(data.length);
    expect(sha256(result.stdoutBytes)).toBe(sha256(data));
    expect(result.truncated).toBe(false);
  });

  it("caps retained output with a visible marker", async () => {
    const session = sessionFor(host, { maxOutputBytes: 1024 * 1024 });
    const result = await session.run("flood", ["head", "-c", String(3 * 1024 * 1024), "/dev/zero"]);
    expect(result.code).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.stdout).toMatch(/output truncated: kept the first 1048576 bytes, dropped 2097152 bytes/);
  });

  it("delivers stdin and runs a local script with arguments", async () => {
    const session = sessionFor(host);
    const input = randomBytes(1024 * 1024);
    const digest = await session.run("stdin", ["sha256sum"], { stdin: input });
    expect(digest.stdout.split(" ")[0]).toBe(sha256(input));
    const text = await session.run("stdin-text", ["cat"], { stdin: "hello\nworld" });
    expect(text.stdout).toBe("hello\nworld");
    const script = path.join(localDir, "probe.sh");
    await writeFile(script, '#!/usr/bin/env bash\nset -euo pipefail\nprintf "%s|" "$#" "$@"\n');
    const scripted = await session.runScript("probe", script, ["a b", "$(c)"]);
    expect(scripted.stdout).toBe("2|a b|$(c)|");
  });

  it("copies files with sftpPut atomically and with the given mode", async () => {
    const session = sessionFor(host);
    const target = path.join(host.dir, "artifact.bin");
    const payload = randomBytes(300 * 1024);
    await session.sftpPut(payload, target, 0o640);
    expect(sha256(await readFile(target))).toBe(sha256(payload));
    expect(statSync(target).mode & 0o777).toBe(0o640);
    const local = path.join(localDir, "local.txt");
    await writeFile(local, "from a path\n");
    await session.sftpPut(local, target, 0o755);
    expect(await readFile(target, "utf8")).toBe("from a path\n");
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it("never shows a password, passphrase or private key in errors, logs or inspect output", async () => {
    const password = "Pa55word-never-printed-7f3a";
    const passphrase = "passphrase-never-printed-91c2";
    const keyFile = path.join(localDir, "unauthorized_key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-f", keyFile]);
    const unauthorizedKey = await readFile(keyFile, "utf8");
    const secrets = [password, passphrase, unauthorizedKey, host.privateKey];
    const keyLines = [unauthorizedKey, host.privateKey].flatMap((key) =>
      key.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----")),
    );
    const leaks = (text: string): string[] =>
      [...secrets, ...keyLines].filter((secret) => text.includes(secret.trim()));
    const logs: string[] = [];

    // Authentication fails: a key the host does not know (with its passphrase) plus a password.
    const denied = sessionFor(host, {
      credentials: { privateKey: unauthorizedKey, passphrase, password },
      verbose: true,
      log: (line) => logs.push(line),
    });
    const authError = (await denied.run("never", ["true"]).catch((e: unknown) => e)) as HostConnectionError;
    expect(authError).toBeInstanceOf(HostConnectionError);
    expect(authError.failure).toBe("auth");
    expect(authError.attempts).toBe(1);
    for (const text of [
      authError.message,
      String(authError.stack),
      inspect(authError, { depth: 10 }),
      JSON.stringify(authError),
      inspect(denied, { depth: 10, showHidden: true }),
      JSON.stringify(denied),
    ]) {
      expect(leaks(text)).toEqual([]);
    }

    // A wrong passphrase makes ssh2 reject the key before connecting.
    const badPassphrase = sessionFor(host, {
      credentials: { privateKey: unauthorizedKey, passphrase: "wrong" },
    });
    const parseError = (await badPassphrase.run("never", ["true"]).catch((e: unknown) => e)) as Error;
    expect(parseError).toBeInstanceOf(HostConnectionError);
    expect(leaks(parseError.message)).toEqual([]);

    // A step whose output echoes a secret: the error tail and the progress log are scrubbed.
    const working = sessionFor(host, {
      credentials: { privateKey: host.privateKey, password },
      verbose: true,
      log: (line) => logs.push(line),
    });
    const stepError = (await working
      .runChecked(
        "leaky",
        ["sh", "-c", 'echo "pw=$P"; cat "$1"; exit 1', "sh", path.join(host.dir, "client_ed25519_key")],
        {
          env: { P: password },
        },
      )
      .catch((e: unknown) => e)) as HostStepError;
    expect(stepError).toBeInstanceOf(HostStepError);
    expect(stepError.message).toContain("pw=[REDACTED]");
    expect(leaks(stepError.message)).toEqual([]);
    expect(leaks(inspect(stepError, { depth: 10 }))).toEqual([]);
    expect(leaks(inspect(working, { depth: 10, showHidden: true }))).toEqual([]);
    expect(logs.some((line) => line.includes("pw=[REDACTED]"))).toBe(true);
    expect(leaks(logs.join("\n"))).toEqual([]);
  });

  it("authenticates through an ssh-agent socket", async () => {
    const socket = path.join(localDir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      execFileSync("ssh-add", ["-q", path.join(host.dir, "client_ed25519_key")], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: "ignore",
      });
      const session = sessionFor(host, { credentials: { agent: socket } });
      expect((await session.run("via-agent", ["echo", "agent ok"])).stdout).toBe("agent ok\n");
      await session.close();
    } finally {
      agent.kill();
    }
  });

  it("pools one session per host name and closes them all", async () => {
    const pool = new HostSessionPool({ maxChannels: 2 });
    const options = {
      name: host.name,
      address: host.address,
      hostKey: host.hostKey,
      credentials: { privateKey: host.privateKey },
    };
    const first = pool.get(options);
    expect(pool.get(options)).toBe(first);
    const second = pool.get({
      ...options,
      name: otherHost.name,
      address: otherHost.address,
      hostKey: otherHost.hostKey,
      credentials: { privateKey: otherHost.privateKey },
    });
    expect(second).not.toBe(first);
    expect(() => pool.get({ ...options, address: otherHost.address })).toThrow(/host names must be unique/);
    const [a, b] = await Promise.all([
      first.run("one", ["cat", "/proc/net/dev"]),
      second.run("two", ["true"]),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(first.channelStats.limit).toBe(2);
    await pool.closeAll();
    await expect(first.run("after-close", ["true"])).rejects.toThrow(/session is closed/);
  });
});
