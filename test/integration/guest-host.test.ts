/**
 * Debian guest hosts (the local lab recipe) really work: they run the image's own kernel,
 * pin their generated host keys, build/load/unload an out-of-tree module against the image's
 * headers, and two linked hosts reach each other over their cable NIC.
 *
 * Cold (image build): ~3-4 min on 2 cores; warm: ~1.5 min. Talks to the guests through the
 * project's HostSession (test/support/guest-session.ts).
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ensureBaseImage, startGuestHosts, type BaseImage, type GuestHost } from "../fixtures/guest-host";
import { GuestSession } from "../support/guest-session";

const HELLO_DIR = path.join(__dirname, "..", "fixtures", "guest", "hello-module");
const COMMAND_TIMEOUT_MS = 120_000;

describe("Debian guest hosts (local lab recipe)", () => {
  let image: BaseImage;
  let hosts: GuestHost[] = [];
  const guests: GuestSession[] = [];

  beforeAll(async () => {
    image = await ensureBaseImage();
    hosts = await startGuestHosts({ names: ["guest-a", "guest-b"], linked: true });
    for (const h of hosts) guests.push(await GuestSession.open(h, { commandTimeoutMs: COMMAND_TIMEOUT_MS }));
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.allSettled(guests.map((g) => g.close()));
    await Promise.allSettled(hosts.map((h) => h.stop()));
  }, 120_000);

  it("runs the image's own kernel, with the host's name, and reports its accelerator", async () => {
    expect(hosts).toHaveLength(2);
    for (const [i, h] of hosts.entries()) {
      expect((await guests[i]!.ok(["uname", "-r"])).trim()).toBe(image.kernelRelease);
      expect((await guests[i]!.ok(["hostname"])).trim()).toBe(h.name);
      expect(h.kernelRelease).toBe(image.kernelRelease);
      expect(["kvm", "tcg"]).toContain(h.accel);
      expect(h.consoleTail(500)).toMatch(/nmtb-seed/);
    }
  });

  it("pins each host's generated key: another key is refused", async () => {
    expect(hosts[0]!.hostKey).not.toBe(hosts[1]!.hostKey);
    const refused = GuestSession.open(hosts[0]!, {
      hostKey: hosts[1]!.hostKey,
      connectTimeoutMs: 20_000,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
    });
    await expect(refused).rejects.toThrow(/verif|handshake|host key/i);
    await expect(refused).rejects.toMatchObject({ failure: "host-key-mismatch" });
    // The private host key and the seed that carries it are this user's only.
    for (const h of hosts) {
      const stateDir = path.dirname(h.consoleLog);
      expect(statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(stateDir, "seed.tar")).mode & 0o777).toBe(0o600);
    }
  });

  it("builds, loads and unloads an out-of-tree module with the image's headers", async () => {
    const g = guests[0]!;
    await g.ok(["rm", "-rf", "/root/hello"]);
    await g.ok(["mkdir", "-p", "/root/hello"]);
    for (const f of ["hello.c", "Makefile"]) {
      await g.ok(["tee", `/root/hello/${f}`], { stdin: readFileSync(path.join(HELLO_DIR, f), "utf8") });
    }
    await g.ok(["make", "-C", "/root/hello"], { timeoutMs: 300_000 });
    expect(await g.ok(["modinfo", "-F", "vermagic", "/root/hello/nmtb_hello.ko"])).toContain(
      image.kernelRelease,
    );
    await g.ok(["insmod", "/root/hello/nmtb_hello.ko", "greeting=guest"]);
    expect(await g.ok(["lsmod"])).toMatch(/^nmtb_hello\s/m);
    expect((await g.ok(["cat", "/sys/module/nmtb_hello/parameters/greeting"])).trim()).toBe("guest");
    await g.ok(["rmmod", "nmtb_hello"]);
    expect(await g.ok(["lsmod"])).not.toMatch(/^nmtb_hello\s/m);
    const log = await g.ok(["dmesg"]);
    expect(log).toContain("nmtb_hello: hello, guest");
    expect(log).toContain("nmtb_hello: bye, guest");
  }, 420_000);

  it("links two hosts with a cable NIC: they ping each other over a private /30", async () => {
    const [a, b] = hosts as [GuestHost, GuestHost];
    const [ga, gb] = guests as [GuestSession, GuestSession];
    expect(a.links).toHaveLength(1);
    expect(a.links[0]).toMatchObject({ ifname: "eth1", peer: b.name, peerIfname: "eth1" });
    const addrs: [GuestHost, GuestSession, string][] = [
      [a, ga, "10.250.77.1/30"],
      [b, gb, "10.250.77.2/30"],
    ];
    for (const [h, g, addr] of addrs) {
      const ifname = h.links[0]!.ifname;
      await g.ok(["ip", "addr", "flush", "dev", ifname]);
      await g.ok(["ip", "addr", "add", addr, "dev", ifname]);
      await g.ok(["ip", "link", "set", ifname, "up"]);
      expect(await g.ok(["cat", `/sys/class/net/${ifname}/address`])).toContain(h.links[0]!.mac);
    }
    const ping = (g: GuestSession, to: string): Promise<string> =>
      g.ok(["ping", "-c", "3", "-W", "3", to], { timeoutMs: 60_000 });
    expect(await ping(ga, "10.250.77.2")).toMatch(/3 received/);
    expect(await ping(gb, "10.250.77.1")).toMatch(/3 received/);
    // The management NIC is not the cable: the /30 is only on eth1.
    expect(await ga.ok(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])).not.toContain("10.250.77.");
  }, 180_000);
});
