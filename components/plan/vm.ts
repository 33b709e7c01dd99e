/**
 * One VM: its files on the host, its NICs and the exact QEMU argv. Option spellings are those of
 * QEMU 3.0 (the ptnet fork's base); the netmap backend and ptnet device as in luigirizzo/netmap
 * README.ptnetmap.md and netmap-unipi/qemu net/netmap.c, hw/net/ptnet.c.
 */
import type { HostNicSpec, HugepagesSpec, ImageSpec, VmNicSpec, VmSpec } from "../topology/model";
import { pipePortName } from "./pipes";
import { HOST_STATE_DIR, type VmNicPlan, type VmPaths, type VmPlan } from "./types";
import { valePortName } from "./vale";

/** The first VM on a host gets this SSH forward port, the next one +1, and so on. */
export const SSH_FORWARD_PORT_BASE = 10022;

/**
 * Where the hugepages step mounts hugetlbfs for a page size (`mount -t hugetlbfs -o pagesize=SIZE`).
 * A mount per size because /dev/hugepages only serves the kernel's default size (2M on x86),
 * and a 1G reservation would go unused behind it.
 */
export function hugepagesMountPath(size: HugepagesSpec["size"]): string {
  return `${HOST_STATE_DIR}/hugepages-${size}`;
}

export function vmPaths(vm: string): VmPaths {
  const dir = `${HOST_STATE_DIR}/vms/${vm}`;
  return {
    dir,
    overlay: `${dir}/overlay.qcow2`,
    seed: `${dir}/seed.img`,
    serialLog: `${dir}/console.log`,
    qmpSocket: `${dir}/qmp.sock`,
    pidFile: `${dir}/qemu.pid`,
    kernel: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.img`,
    unit: `netmap-testbed-vm-${vm}.service`,
  };
}

export function planVmNic(nic: VmNicSpec, index: number, hostNics: readonly HostNicSpec[]): VmNicPlan {
  const netdevId = `nm${index}`;
  switch (nic.kind) {
    case "vale": {
      const ifname = valePortName(nic.switch, nic.port);
      return { netdevId, ifname, mac: nic.mac, describe: `VALE ${ifname}` };
    }
    case "pipe": {
      const ifname = pipePortName(nic.pipe, nic.id, nic.end);
      return {
        netdevId,
        ifname,
        mac: nic.mac,
        describe: `pipe ${ifname.slice("netmap:".length)} (${nic.end})`,
      };
    }
    case "nic": {
      const hostNic = hostNics.find((candidate) => candidate.name === nic.nic);
      if (!hostNic) throw new Error(`VM NIC refers to unknown host NIC ${nic.nic} (validate first)`);
      // QEMU strips the "netmap:" prefix; keeping it makes the argv say what the port is.
      return {
        netdevId,
        ifname: `netmap:${hostNic.interface}`,
        mac: nic.mac,
        describe: `NIC ${hostNic.name} (${hostNic.interface})`,
      };
    }
  }
}

/**
 * The kernel command line of the lab recipe's image (kernel-builds/lab/build-image.sh `cmdline`):
 * its root is the whole virtio disk (an ext4 image, no partition table), the console is the
 * serial port (the VM's console log), and `eth0` is the first NIC, the management one, which
 * the image's systemd-networkd configures by that name.
 */
export const LAB_RECIPE_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0";

/**
 * How the guest boots and reads its seed. A downloaded cloud image boots from its own disk and
 * finds cloud-init's seed by its volume label. A recipe image has no boot loader: QEMU loads its
 * kernel and initrd, and the image's nmtb-seed service finds the seed by its disk's serial.
 */
function bootArgs(image: ImageSpec, paths: VmPaths): string[] {
  if (image.kind === "url") {
    return [
      "-drive",
      `file=${paths.overlay},if=virtio,format=qcow2`,
      "-drive",
      `file=${paths.seed},if=virtio,format=raw,readonly=on`,
    ];
  }
  return [
    "-kernel",
    paths.kernel,
    "-initrd",
    paths.initrd,
    "-append",
    LAB_RECIPE_CMDLINE,
    // root=/dev/vda: the root disk must be the first virtio disk the kernel finds, and QEMU
    // places `if=virtio` drives after every -device, so both disks are explicit devices, in order.
    "-drive",
    `file=${paths.overlay},if=none,id=root,format=qcow2`,
    "-device",
    "virtio-blk-pci,drive=root",
    "-drive",
    `file=${paths.seed},if=none,id=seed,format=raw,readonly=on`,
    "-device",
    "virtio-blk-pci,drive=seed,serial=nmtb-seed",
  ];
}

export interface QemuArgvInput {
  readonly binary: string;
  readonly spec: VmSpec;
  readonly image: ImageSpec;
  readonly nics: readonly VmNicPlan[];
  readonly paths: VmPaths;
  readonly sshForwardPort: number;
  /** Required when spec.hugepages: the host's hugepage size. */
  readonly hugepages?: HugepagesSpec;
}

/** How a host runs its VMs: "kvm", or "tcg" where KVM is not hardware-assisted (a lab host under TCG). */
export type VmAccel = "kvm" | "tcg";

/**
 * The planner's argv for a host without hardware-assisted KVM: exactly two values change,
 * `accel=kvm,kernel_irqchip=on` → `accel=tcg` and `-cpu host` → `-cpu max`. A lab host running
 * under TCG has an emulated SVM and so a /dev/kvm, but a nested KVM guest on it froze the lab
 * host in CI. Under TCG the guest boots and shows its ptnet NIC, but ptnet's passthrough needs
 * KVM's irqfds (ptnetmap-netif.c), so its data path does not run: measurements want KVM.
 */
export function argvForAccel(argv: readonly string[], accel: VmAccel): string[] {
  if (accel === "kvm") return [...argv];
  return argv.map((arg, i) => {
    if (argv[i - 1] === "-machine")
      return arg.replace(/(^|,)accel=kvm,kernel_irqchip=on(?=,|$)/, "$1accel=tcg");
    if (argv[i - 1] === "-cpu" && arg === "host") return "max";
    return arg;
  });
}

/**
 * The argv, run in the foreground by the VM's systemd unit (hence no -daemonize).
 * ptnet-pci wires its interrupts through KVM irqfds (kvm_irqchip_add_msi_route in hw/net/ptnet.c),
 * so KVM with the in-kernel irqchip is required, and said explicitly.
 */
export function qemuArgv(input: QemuArgvInput): string[] {
  const { spec, paths } = input;
  const memory = `${spec.memoryMiB}M`;
  const args = [
    input.binary,
    "-name",
    // debug-threads names vCPU threads "CPU n/KVM", which the pinning step looks for.
    `${spec.name},debug-threads=on`,
    "-machine",
    "q35,accel=kvm,kernel_irqchip=on",
    "-cpu",
    "host",
    "-smp",
    String(spec.cpus),
    "-m",
    memory,
  ];
  if (spec.hugepages) {
    if (!input.hugepages) {
      throw new Error(`vms.${spec.name}.hugepages: host ${spec.host} reserves no hugepages (validate first)`);
    }
    args.push(
      "-object",
      `memory-backend-file,id=mem0,size=${memory},mem-path=${hugepagesMountPath(input.hugepages.size)},share=on,prealloc=on`,
      "-numa",
      "node,memdev=mem0",
    );
  }
  args.push(
    // No default devices: the argv lists every device the VM has.
    "-nodefaults",
    "-display",
    "none",
    ...bootArgs(input.image, paths),
    "-netdev",
    `user,id=mgmt,hostfwd=tcp:127.0.0.1:${input.sshForwardPort}-:22`,
    "-device",
    "virtio-net-pci,netdev=mgmt",
  );
  for (const nic of input.nics) {
    args.push(
      "-netdev",
      `netmap,id=${nic.netdevId},ifname=${nic.ifname},passthrough=on`,
      "-device",
      `ptnet-pci,netdev=${nic.netdevId},mac=${nic.mac}`,
    );
  }
  args.push(
    "-serial",
    `file:${paths.serialLog}`,
    "-qmp",
    `unix:${paths.qmpSocket},server,nowait`,
    "-pidfile",
    paths.pidFile,
  );
  return args;
}

export interface VcpuPin {
  readonly vcpu: number;
  readonly hostCpu: number;
}

/** vCPU n runs on pin[n]; QEMU has no option for this, the VM script pins the vCPU threads after start. */
export function vcpuPinMap(vm: Pick<VmSpec, "pin"> | Pick<VmPlan, "spec">): VcpuPin[] {
  const pin = "spec" in vm ? vm.spec.pin : vm.pin;
  return (pin ?? []).map((hostCpu, vcpu) => ({ vcpu, hostCpu }));
}

export interface PlanVmInput {
  readonly spec: VmSpec;
  readonly image: ImageSpec;
  /** Position of the VM among its host's VMs (file order). */
  readonly indexOnHost: number;
  readonly hostNics: readonly HostNicSpec[];
  readonly hugepages?: HugepagesSpec;
  readonly qemuBinary: string;
}

export function planVm(input: PlanVmInput): VmPlan {
  const { spec } = input;
  const nics = spec.nics.map((nic, index) => planVmNic(nic, index, input.hostNics));
  const paths = vmPaths(spec.name);
  const sshForwardPort = SSH_FORWARD_PORT_BASE + input.indexOnHost;
  return {
    name: spec.name,
    spec,
    image: input.image,
    nics,
    sshForwardPort,
    paths,
    qemuArgs: qemuArgv({
      binary: input.qemuBinary,
      spec,
      image: input.image,
      nics,
      paths,
      sshForwardPort,
      hugepages: input.hugepages,
    }),
  };
}
