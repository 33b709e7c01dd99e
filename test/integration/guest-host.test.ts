/**
 * Debian guest hosts (the local lab recipe) really work: they run the image's own kernel,
 * pin their generated host keys, build/load/unload an out-of-tree module against the image's
 * headers, and two linked hosts reach each other over their cable NIC.
 *
 * Cold (image build): ~3-4 min on 2 cores; warm: ~1.5 min. Talks ssh2 directly (the project's
 * HostSession has its own tests).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Client } from "ssh2";
import { ensureBaseImage, startGuestHosts, type BaseImage, type GuestHost } from "../fixtures/guest-host";

const HELLO_DIR = path.join(__dirname, "..", "fixtures", "guest", "hello-module");

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function blobOf(hostKeyLine: string): Buffer {
  const parts = hostKeyLine.trim().split(/\s+/);
  if (parts.length < 2 || parts[0] !== "ssh-ed25519")
    throw new Error(`not an ed25519 host key: ${hostKeyLine}`);
  return Buffer.from(parts[1]!, "base64");
}

/** Connects with the host key pinned to `pinned` (a mismatch makes the connection fail). */
function connect(host: GuestHost, pinned: string, timeoutMs = 30_000): Promise<Client> {
  const expected = blobOf(pinned);
  return new Promise((resolve, reject) => {
    const client = new Client();
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`${host.name}: ssh connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    client
      .on("ready", () => {
        clearTimeout(timer);
        resolve(client);
      })
      .on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      })
      .connect({
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: host.privateKey,
        readyTimeout: timeoutMs,
        algorithms: { serverHostKey: ["ssh-ed25519"] },
        hostVerifier: (key: Buffer) => key.equals(expected),
      });
  });
}

function run(client: Client, command: string, input?: string, timeoutMs = 120_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        stream.close();
        reject(new Error(`'${command}' timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      stream.on("data", (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      stream.on("close", (code: number | null) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      stream.end(input ?? "");
    });
  });
}

/** Runs `command` and fails with its output and the host's console tail unless it exits 0. */
async function ok(
  host: GuestHost,
  client: Client,
  command: string,
  input?: string,
  timeoutMs?: number,
): Promise<string> {
  const r = await run(client, command, input, timeoutMs);
  if (r.code !== 0) {
    throw new Error(
      `${host.name}: '${command}' exited ${String(r.code)}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}\n` +
        `--- console tail of ${host.name} ---\n${host.consoleTail(30)}`,
    );
  }
  return r.stdout;
}

describe("Debian guest hosts (local lab recipe)", () => {
  let image: BaseImage;
  let hosts: GuestHost[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    image = await ensureBaseImage();
    hosts = await startGuestHosts({ names: ["guest-a", "guest-b"], linked: true });
    for (const h of hosts) clients.push(await connect(h, h.hostKey));
  }, 20 * 60_000);

  afterAll(async () => {
    for (const c of clients) c.end();
    await Promise.allSettled(hosts.map((h) => h.stop()));
  }, 120_000);

  it("runs the image's own kernel, with the host's name, and reports its accelerator", async () => {
    expect(hosts).toHaveLength(2);
    for (const [i, h] of hosts.entries()) {
      expect((await ok(h, clients[i]!, "uname -r")).trim()).toBe(image.kernelRelease);
      expect((await ok(h, clients[i]!, "hostname")).trim()).toBe(h.name);
      expect(h.kernelRelease).toBe(image.kernelRelease);
      expect(["kvm", "tcg"]).toContain(h.accel);
      expect(h.consoleTail(500)).toMatch(/nmtb-seed/);
    }
  });

  it("pins each host's generated key: another key is refused", async () => {
    expect(hosts[0]!.hostKey).not.toBe(hosts[1]!.hostKey);
    await expect(connect(hosts[0]!, hosts[1]!.hostKey, 20_000)).rejects.toThrow(/verif|handshake|host key/i);
  });

  it("builds, loads and unloads an out-of-tree module with the image's headers", async () => {
    const h = hosts[0]!;
    const c = clients[0]!;
    await ok(h, c, "rm -rf /root/hello && mkdir -p /root/hello");
    for (const f of ["hello.c", "Makefile"]) {
      await ok(h, c, `cat > /root/hello/${f}`, readFileSync(path.join(HELLO_DIR, f), "utf8"));
    }
    await ok(h, c, "make -C /root/hello", undefined, 300_000);
    expect(await ok(h, c, "modinfo -F vermagic /root/hello/nmtb_hello.ko")).toContain(image.kernelRelease);
    await ok(h, c, "insmod /root/hello/nmtb_hello.ko greeting=guest");
    expect(await ok(h, c, "lsmod")).toMatch(/^nmtb_hello\s/m);
    expect((await ok(h, c, "cat /sys/module/nmtb_hello/parameters/greeting")).trim()).toBe("guest");
    await ok(h, c, "rmmod nmtb_hello");
    expect(await ok(h, c, "lsmod")).not.toMatch(/^nmtb_hello\s/m);
    const log = await ok(h, c, "dmesg");
    expect(log).toContain("nmtb_hello: hello, guest");
    expect(log).toContain("nmtb_hello: bye, guest");
  }, 420_000);

  it("links two hosts with a cable NIC: they ping each other over a private /30", async () => {
    const [a, b] = hosts as [GuestHost, GuestHost];
    expect(a.links).toHaveLength(1);
    expect(a.links[0]).toMatchObject({ ifname: "eth1", peer: b.name, peerIfname: "eth1" });
    const addrs: [GuestHost, Client, string][] = [
      [a, clients[0]!, "10.250.77.1/30"],
      [b, clients[1]!, "10.250.77.2/30"],
    ];
    for (const [h, c, addr] of addrs) {
      const ifname = h.links[0]!.ifname;
      await ok(
        h,
        c,
        `ip addr flush dev ${ifname} && ip addr add ${addr} dev ${ifname} && ip link set ${ifname} up`,
      );
      expect(await ok(h, c, `cat /sys/class/net/${ifname}/address`)).toContain(h.links[0]!.mac);
    }
    expect(await ok(a, clients[0]!, "ping -c 3 -W 3 10.250.77.2", undefined, 60_000)).toMatch(/3 received/);
    expect(await ok(b, clients[1]!, "ping -c 3 -W 3 10.250.77.1", undefined, 60_000)).toMatch(/3 received/);
    // The management NIC is not the cable: the /30 is only on eth1.
    expect(await ok(a, clients[0]!, "ip -4 -o addr show dev eth0")).not.toContain("10.250.77.");
  }, 180_000);
});
