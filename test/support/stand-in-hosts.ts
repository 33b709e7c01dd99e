/**
 * Many deployable hosts on one machine: netns hosts (test/fixtures/netns-hosts.ts), each with a
 * root of its own (a copy-on-write overlay of this machine's) running the stand-in kernel
 * (test/fixtures/stand-in-kernel: kmod, kbuild and systemctl over a private module table) and the
 * stateful vale-ctl stand-in. The project deploys the stand-in netmap onto them through its real
 * components: build, install, load and persistence run for real in each host's root, and nothing
 * reaches this machine's kernel or files. The stand-in init behind their systemctl runs the
 * stand-in QEMU's VMs (test/support/fake-qemu-hosts.ts) as units.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createNetnsLab, type NetnsHost, type NetnsLab } from "../fixtures/netns-hosts";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");
/** The stand-in netmap tree, deployed from this machine (`source: { path }`). */
export const STAND_IN_NETMAP_SOURCE = path.join(FIXTURES, "fake-netmap");

export interface StandInHosts {
  readonly lab: NetnsLab;
  readonly hosts: readonly NetnsHost[];
  /** The one client key every host accepts (the stack's `sshPrivateKey`). */
  readonly privateKey: string;
  destroy(): Promise<void>;
}

function execFileText(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Creates `count` stand-in hosts (1–50); destroy them also when something fails. */
export async function createStandInHosts(count: number, prefix: string): Promise<StandInHosts> {
  const lab = await createNetnsLab({
    hosts: count,
    prefix,
    // Sixteen overlays and stand-in kernels set up at once take a few seconds on two cores.
    readyTimeoutMs: 60_000,
    privateRoot: {
      setup: [
        path.join(FIXTURES, "stand-in-kernel", "install.sh"),
        path.join(FIXTURES, "fake-vale-ctl", "install.sh"),
      ],
    },
    // The hosts' sshd runs without PAM, which is what reads /etc/environment elsewhere.
    sshdConfig: ["SetEnv NMTB_SYS_CLASS_NET=/run/nmtb-fake-vale/sys"],
  });
  try {
    // One key for the whole testbed, as a stack has one sshPrivateKey.
    const [first] = lab.hosts;
    for (const host of lab.hosts) {
      fs.appendFileSync(path.join(host.dir, "authorized_keys"), `${first.publicKey}\n`);
    }
    return { lab, hosts: lab.hosts, privateKey: first.privateKey, destroy: () => lab.destroy() };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** What each host of {@link standInTopology} gets besides netmap. */
export interface StandInTestbed {
  /** Persistent ports on the host's VALE switch. */
  readonly ports: number;
  /** VMs on the host, each with a port on its switch; needs `vmSections`. */
  readonly vms: number;
  /** The topology's `qemu:` and `images:` sections (image `tiny`), from startFakeQemuStandIns. */
  readonly vmSections?: string;
}

/**
 * A topology deploying the stand-in netmap (no patched NIC driver: the hosts' only NIC is their
 * management veth) onto the hosts h1…hN, each with a VALE switch, its persistent ports, a pipe
 * and its VMs.
 */
export function standInTopology(
  name: string,
  hosts: readonly NetnsHost[],
  testbed: StandInTestbed = { ports: 2, vms: 0 },
): string {
  if (testbed.vms > 0 && !testbed.vmSections) throw new Error("VMs need the stand-in QEMU's vmSections");
  const lines = [
    "apiVersion: netmap-testbed/v1",
    `name: ${name}`,
    "netmap:",
    `  source: { path: ${STAND_IN_NETMAP_SOURCE} }`,
    "  drivers: []",
    "  params: { buf_num: 4096 }",
    ...(testbed.vms > 0 ? [testbed.vmSections?.trimEnd() ?? ""] : []),
    "hosts:",
  ];
  hosts.forEach((host, i) => {
    lines.push(
      `  h${i + 1}:`,
      `    address: ${host.address}`,
      `    hostKey: "${host.hostKey}"`,
      "    managementInterface: eth0",
    );
  });
  lines.push("switches:");
  hosts.forEach((_, i) => {
    lines.push(`  vale${i + 1}:`, `    host: h${i + 1}`, "    ports:");
    for (let p = 0; p < testbed.ports; p++) lines.push(`      p${p}: {}`);
    for (let v = 0; v < testbed.vms; v++) lines.push(`      vm${v}: {}`);
  });
  lines.push("pipes:");
  hosts.forEach((_, i) => lines.push(`  pipe${i + 1}: { host: h${i + 1} }`));
  if (testbed.vms > 0) lines.push("vms:");
  hosts.forEach((_, i) => {
    for (let v = 0; v < testbed.vms; v++) {
      lines.push(
        `  h${i + 1}vm${v}:`,
        `    host: h${i + 1}`,
        "    image: tiny",
        "    cpus: 1",
        "    memory: 256MiB",
        `    nics: [{ switch: vale${i + 1}, port: vm${v} }]`,
      );
    }
  });
  return `${lines.join("\n")}\n`;
}

/**
 * Every path a stand-in host has written, deleted or changed in its root since it started: its
 * root's copy-on-write layer (deleted files show as character devices there), without /run, /tmp
 * and root's home, which are fresh filesystems of their own. A directory counts only if this
 * machine has none there (the layer also holds copies of directories whose entries changed).
 * Sorted; "-" marks a deletion.
 */
export async function rootChanges(host: NetnsHost): Promise<string[]> {
  const upper = path.join(host.dir, "layers", "upper");
  const result = await execFileText("nsenter", [
    "-t",
    String(host.sshdPid),
    "-m",
    "--",
    "find",
    upper,
    "-mindepth",
    "1",
    "-printf",
    "%y %P\n",
  ]);
  return result
    .split("\n")
    .filter((line) => line !== "")
    .filter((line) => !line.startsWith("d ") || !fs.existsSync(path.join("/", line.slice(2))))
    .map((line) => (line.startsWith("c ") ? `-${line.slice(2)}` : line.slice(2)))
    .sort();
}
