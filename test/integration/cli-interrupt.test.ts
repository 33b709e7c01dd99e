/**
 * The built CLI's `run` against hosts that do not answer: Ctrl-C while it is still connecting
 * exits 130 at once (not after the 15 s connect timeout), and neither an interrupted nor a failed
 * run leaves an empty results/<timestamp>-<playbook>/ directory behind.
 *
 * The "host" is a TCP listener on 127.0.0.1 that accepts and never speaks SSH, so the SSH
 * handshake hangs exactly as with a host whose sshd is stuck or a port forwarded into nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { utils } from "ssh2";

const ROOT = path.join(__dirname, "../..");
const CLI = path.join(ROOT, "dist/components/cli/main.js");
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMRLuFO5GnD61L+kDIuyB3UBKAJPVZabXHOd8vIEk47";

let work: string;
let silent: net.Server;
const accepted = new Set<net.Socket>();

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-cli-interrupt-"));
  fs.writeFileSync(path.join(work, "id"), utils.generateKeyPairSync("ed25519").private, { mode: 0o600 });
  silent = net.createServer((socket) => {
    accepted.add(socket);
    socket.on("close", () => accepted.delete(socket));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  fs.rmSync(work, { recursive: true, force: true });
});

/** A one-host topology reached at 127.0.0.1:PORT and a playbook measuring over its VALE switch. */
function writePlaybook(name: string, port: number): string {
  fs.writeFileSync(
    path.join(work, `${name}-topology.yaml`),
    `apiVersion: netmap-testbed/v1
name: ${name}
netmap:
  source: { hostPath: /srv/netmap.tar.gz }
  drivers: []
hosts:
  h1:
    address: 127.0.0.1
    port: ${port}
    hostKey: "${HOST_KEY}"
    managementInterface: eth0
switches:
  vale0:
    host: h1
    ports: { a: {}, b: {} }
`,
  );
  const file = path.join(work, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: netmap-testbed/playbook-v1
name: ${name}
topology: ${name}-topology.yaml
runs:
  - name: vale
    sender: { valePort: "vale0:a" }
    receiver: { valePort: "vale0:b" }
    sizes: [60]
    repetitions: 1
`,
  );
  return file;
}

interface Cli {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  stderr: string;
}

function runCli(playbook: string, out: string): Cli {
  const child = spawn(
    process.execPath,
    [CLI, "run", playbook, "--identity", path.join(work, "id"), "--out", out],
    { cwd: work, env: { ...process.env, SSH_AUTH_SOCK: "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const cli: Cli = {
    child,
    stderr: "",
    exit: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
  };
  child.stderr?.on("data", (chunk: Buffer) => (cli.stderr += chunk.toString()));
  return cli;
}

async function exitWithin(cli: Cli, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const outcome = await Promise.race([cli.exit, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    cli.child.kill("SIGKILL");
    throw new Error(`the CLI did not exit within ${ms} ms of Ctrl-C\nstderr:\n${cli.stderr}`);
  }
  return outcome;
}

function leftDirectories(out: string): string[] {
  return fs.existsSync(out) ? fs.readdirSync(out) : [];
}

describe("netmap-testbed run (built CLI): Ctrl-C and failures", () => {
  it("Ctrl-C while the SSH handshake hangs exits 130 within 3 s and leaves no results directory", async () => {
    const { port } = silent.address() as net.AddressInfo;
    const out = path.join(work, "results-interrupted");
    const cli = runCli(writePlaybook("silent", port), out);
    // Wait until it is connecting (the listener has the connection), then a little longer.
    const deadline = Date.now() + 10_000;
    while (accepted.size === 0) {
      if (Date.now() > deadline) throw new Error(`no connection to the listener within 10 s:\n${cli.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sent = Date.now();
    cli.child.kill("SIGINT");
    const code = await exitWithin(cli, 3000);
    expect({ code, stderr: cli.stderr }).toEqual({
      code: 130,
      stderr: expect.stringContaining("interrupted"),
    });
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(cli.stderr).toContain("nothing was measured; no results directory written");
    expect(cli.stderr).not.toContain("unreachable");
    expect(leftDirectories(out)).toEqual([]);
  });

  it("a run that fails to connect exits 1, says why, and leaves no results directory", async () => {
    // A port that was just free: the connection is refused at once.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const out = path.join(work, "results-failed");
    const cli = runCli(writePlaybook("refused", port), out);
    const code = await exitWithin(cli, 20_000);
    expect(code).toBe(1);
    expect(cli.stderr).toMatch(/host h1 \(root@127\.0\.0\.1:\d+\): unreachable/);
    expect(leftDirectories(out)).toEqual([]);
  });
});
