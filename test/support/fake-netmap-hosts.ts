/**
 * Guests prepared for deploying the stand-in netmap tree (test/fixtures/fake-netmap) through the
 * real components: the tree staged as a local source directory, as an air-gapped lab would have
 * it, a `dummy0` test NIC that comes back whenever the dummy driver is reloaded, and a topology
 * naming the guests with their pinned host keys. Shared by the e2e, build-reuse and bench code.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { HostSession } from "../../components/host";
import type { GuestHost } from "../fixtures/guest-host";

/** Where the stand-in source tree is staged on each guest (the topology's `source.path`). */
export const FAKE_NETMAP_SOURCE = "/root/fake-netmap";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");

/** A topology deploying the stand-in netmap with its patched `dummy` driver onto the guests (g1, g2, …). */
export function fakeNetmapTopology(name: string, hosts: readonly GuestHost[]): string {
  const entries = hosts.map(
    (host, i) => `  g${i + 1}:
    address: ${host.address}
    port: ${host.port}
    hostKey: "${host.hostKey}"
    managementInterface: eth0
    nics:
      t0: { interface: dummy0, driver: dummy }
`,
  );
  return `apiVersion: netmap-testbed/v1
name: ${name}
netmap:
  source: { hostPath: ${FAKE_NETMAP_SOURCE} }
  drivers: [dummy]
  params: { buf_num: 4096 }
hosts:
${entries.join("")}`;
}

/** The project's host session to a guest, with its pinned host key. */
export function guestHostSession(host: GuestHost): HostSession {
  return new HostSession({
    name: host.name,
    address: host.address,
    port: host.port,
    hostKey: host.hostKey,
    credentials: { privateKey: host.privateKey },
  });
}

/** Runs a shell command on the guest; fails with its output tail unless it exits 0. */
export async function guestShell(session: HostSession, command: string, stdin?: string): Promise<string> {
  const result = await session.runChecked("test-setup", ["bash", "-c", command], {
    stdin,
    timeoutMs: 300_000,
  });
  return result.stdout;
}

/** Stages the stand-in tree and the dummy0 test NIC on a guest. */
export async function stageFakeNetmap(session: HostSession): Promise<void> {
  const tree = execFileSync("tar", ["-C", FIXTURES, "-czf", "-", "fake-netmap"]);
  await guestShell(
    session,
    `rm -rf ${FAKE_NETMAP_SOURCE} && mkdir -p /root && base64 -d | tar -xzf - -C /root`,
    tree.toString("base64"),
  );
  // Any load of the stock dummy driver creates dummy0 ("zz-" sorts after systemd's numdummies=0).
  await guestShell(
    session,
    "echo 'options dummy numdummies=1' > /etc/modprobe.d/zz-nmtb-test-dummy.conf && modprobe dummy",
  );
  await guestShell(
    session,
    "for i in $(seq 50); do test -e /sys/class/net/dummy0 && exit 0; sleep 0.2; done; exit 1",
  );
}

/** Where the stateful vale-ctl stand-in (test/fixtures/fake-vale-ctl) keeps its switches on a guest. */
export const FAKE_VALE_STATE = "/run/nmtb-fake-vale";

/**
 * Installs the stateful vale-ctl stand-in as `vale-ctl` on the guest's PATH
 * (test/fixtures/fake-vale-ctl/install.sh). The stand-in netmap's own vale-ctl is a stub; this one
 * keeps ports and answers like the real one, and says there is no /dev/netmap whenever the netmap
 * module is not loaded, as the real one does.
 */
export async function stageFakeValeCtl(session: HostSession): Promise<void> {
  const fixture = execFileSync("tar", ["-C", FIXTURES, "-czf", "-", "fake-vale-ctl"]);
  await guestShell(
    session,
    'set -e; dir=$(mktemp -d); base64 -d | tar -xzf - -C "$dir"; "$dir/fake-vale-ctl/install.sh" /; rm -rf "$dir"',
    fixture.toString("base64"),
  );
}

/** What a deployment changes on a guest and a destroy must restore. */
export interface GuestState {
  modules: string[];
  dummy0: string;
  eth0: string;
  files: string;
  valePorts: string;
  /** VM processes (the stand-in's or QEMU's) and the VMs' state directories. */
  vms: string;
}

/** Reads the parts of a guest a deployment of the stand-in netmap touches. */
export async function guestState(session: HostSession): Promise<GuestState> {
  const sh = (command: string): Promise<string> => guestShell(session, command);
  const driver = async (ifname: string): Promise<string> =>
    (await sh(`ethtool -i ${ifname} 2>/dev/null | sed -n 's/^driver: //p'; true`)).trim() ||
    (
      await sh(
        `basename "$(readlink -f /sys/class/net/${ifname}/device/driver/module 2>/dev/null || readlink -f /sys/class/net/${ifname}/device/driver)" 2>/dev/null; true`,
      )
    ).trim();
  return {
    modules: (await sh("cut -d' ' -f1 /proc/modules | sort")).trim().split("\n"),
    dummy0: await driver("dummy0"),
    eth0: await driver("eth0"),
    files: await sh(
      "ls -d /opt/netmap-testbed/scripts /etc/systemd/system/netmap-testbed* /etc/depmod.d/netmap-testbed* " +
        "/lib/modules/$(uname -r)/extra/netmap-testbed 2>/dev/null; true",
    ),
    // As vale-ctl would list them: a VM's own port (its pid in a fifth field) went with its process.
    valePorts: await sh(
      `awk 'NF < 5 || system("test -e /proc/" $5) == 0' ${FAKE_VALE_STATE}/attached 2>/dev/null; ` +
        `ls ${FAKE_VALE_STATE}/sys 2>/dev/null; true`,
    ),
    // "[n]" keeps pgrep from matching this very command line.
    vms: await sh(
      "pgrep -a -f '[n]mtb-fake-vm|[q]emu-system'; ls /var/lib/netmap-testbed/vms 2>/dev/null; true",
    ),
  };
}

/**
 * A new session to a guest once it answers again (after sshd died or it rebooted), polling every
 * 2 s for at most `boundMs`; fails with the guest's console tail if it does not come back.
 */
export async function reconnectGuest(
  host: GuestHost,
  old: HostSession,
  boundMs: number,
): Promise<HostSession> {
  await old.close().catch(() => undefined);
  const deadline = Date.now() + boundMs;
  for (;;) {
    const session = guestHostSession(host);
    try {
      await session.runChecked("alive", ["true"], { timeoutMs: 30_000 });
      return session;
    } catch (error) {
      await session.close().catch(() => undefined);
      if (Date.now() > deadline) {
        throw new Error(
          `guest ${host.name} did not answer SSH within ${boundMs / 1000} s: ${String(error)}\n` +
            `--- console tail ---\n${host.consoleTail(40)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
