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
  source: { path: ${FAKE_NETMAP_SOURCE} }
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
