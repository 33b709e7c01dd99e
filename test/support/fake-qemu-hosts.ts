/**
 * VMs for the engine tests without the ptnet QEMU: the stand-in QEMU source tree
 * (test/fixtures/fake-qemu: configure/make/install like the fork's), whose installed binary runs a
 * VM's argv with test/fixtures/fake-qemu-vm (a process with the pidfile, QMP socket, console and
 * SSH banner vm.sh waits for), and a 1 MiB guest image served by the controller over HTTP. Shared
 * by engine-vms and the fault tests.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { HostSession } from "../../components/host";
import { guestShell } from "./fake-netmap-hosts";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");
/** A stand-in guest disk: any raw file works as the overlays' backing file, nothing boots it. */
const IMAGE = Buffer.alloc(1 << 20);
const IMAGE_SHA256 = createHash("sha256").update(IMAGE).digest("hex");
/** The controller as QEMU's user-mode network shows it to the guest. */
const CONTROLLER_FROM_GUEST = "10.0.2.2";

/** The stand-ins a VM topology needs on the controller: the QEMU source and the image's server. */
export interface FakeQemuStandIns {
  /** The topology's `qemu:` and `images:` sections (image `tiny`). */
  readonly topology: string;
  close(): void;
}

/**
 * Copies the stand-in QEMU tree (with the VM stand-in inside) under `dir` and serves the image, as
 * a lab's web server would: by default on 127.0.0.1, which guests reach as 10.0.2.2; hosts on a
 * network of this machine's (netns hosts) are served on its address there (`serveOn`).
 */
export async function startFakeQemuStandIns(dir: string, serveOn?: string): Promise<FakeQemuStandIns> {
  const qemuSourceDir = path.join(dir, "qemu-src");
  fs.cpSync(path.join(FIXTURES, "fake-qemu"), qemuSourceDir, { recursive: true });
  fs.cpSync(path.join(FIXTURES, "fake-qemu-vm"), path.join(qemuSourceDir, "fake-qemu-vm"), {
    recursive: true,
  });
  const server = createServer((request, response) => {
    if (request.url !== "/tiny.raw") response.writeHead(404).end();
    else response.writeHead(200, { "content-length": IMAGE.length }).end(IMAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, serveOn ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  // The stand-in QEMU needs only make and cc: its build skips apt-getting QEMU's real build
  // dependencies (minutes under TCG), as a host with managed packages would. Its source is a
  // directory on this machine: packed, uploaded over SFTP and checked into the host's cache.
  const topology = `qemu:
  source: { path: ${qemuSourceDir} }
  installBuildDeps: false
images:
  tiny:
    url: http://${serveOn ?? CONTROLLER_FROM_GUEST}:${port}/tiny.raw
    sha256: "${IMAGE_SHA256}"
`;
  return { topology, close: () => server.close() };
}

/** vm.sh's own status of a VM, as refresh reads it. */
export interface VmStatus {
  present?: boolean;
  running?: boolean;
  pid?: number | null;
  argv?: string[] | null;
}

export async function vmStatus(session: HostSession, vm: string): Promise<VmStatus> {
  const out = await guestShell(
    session,
    `/opt/netmap-testbed/scripts/current/kernel-builds/vm/vm.sh status --name ${vm} --state-dir /var/lib/netmap-testbed/vms/${vm}`,
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "{}") as VmStatus;
}
