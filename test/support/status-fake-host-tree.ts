/**
 * TESTS ONLY. A fake host tree for kernel-builds/host/status.sh: a sysfs (/sys/module, /sys/class/net),
 * the state/opt/cache/systemd directories, the fake vale-ctl's state and QEMU test doubles running
 * with the planner's argv, all under one directory, with the NMTB_* environment that points the
 * script at it. The script then reads it exactly as it reads a real host (the same code paths:
 * sysfs links, the vale-ctl listing, /proc cmdlines, stamps).
 *
 * Several fake hosts may live on one machine (namespace hosts share the filesystem): every path
 * is under the tree's own root, so use one root per host.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HOST_OPT_DIR, HOST_STATE_DIR, type HostPlan, type VmPlan } from "../../components/plan/types";
import { packageRoot } from "../../components/pulumi/package-root";
import { driverModuleName, expectedValeNames } from "../../components/status/drift";

const ROOT = packageRoot();
export const FAKE_VALE_CTL = path.join(ROOT, "test/fixtures/fake-vale-ctl/vale-ctl");
export const FAKE_QEMU = path.join(ROOT, "test/fixtures/fake-qemu-vm/qemu-system-x86_64");
export const FAKE_KERNEL_RELEASE = "6.1.0-50-nmtb-fake";

export class FakeHostTree {
  readonly sysModule: string;
  readonly sysClassNet: string;
  readonly stateDir: string;
  readonly optDir: string;
  readonly cacheDir: string;
  readonly systemdDir: string;
  readonly valeState: string;
  readonly #children = new Map<string, ChildProcess>();
  /** VM → its VALE ports, which exist only while it runs (netmap removes them with its QEMU). */
  readonly #vmPorts = new Map<string, string[]>();

  constructor(readonly root: string) {
    this.sysModule = path.join(root, "sys/module");
    this.sysClassNet = path.join(root, "sys/class/net");
    this.stateDir = path.join(root, "state");
    this.optDir = path.join(root, "opt");
    this.cacheDir = path.join(root, "cache");
    this.systemdDir = path.join(root, "systemd");
    this.valeState = path.join(root, "vale");
    for (const dir of [
      this.sysModule,
      this.sysClassNet,
      this.stateDir,
      this.optDir,
      this.cacheDir,
      this.systemdDir,
    ]) {
      fs.mkdirSync(dir, { recursive: true });
    }
  }

  /** The environment that points status.sh (and the fake vale-ctl) at this tree. */
  get env(): Record<string, string> {
    return {
      NMTB_STATE_DIR: this.stateDir,
      NMTB_OPT_DIR: this.optDir,
      NMTB_CACHE_DIR: this.cacheDir,
      NMTB_SYSTEMD_DIR: this.systemdDir,
      NMTB_SYS_MODULE: this.sysModule,
      NMTB_SYS_CLASS_NET: this.sysClassNet,
      NMTB_KERNEL_RELEASE: FAKE_KERNEL_RELEASE,
      NMTB_VALE_CTL: FAKE_VALE_CTL,
      FAKE_VALE_STATE: this.valeState,
      FAKE_VALE_SYSFS: this.sysClassNet,
    };
  }

  /** A planner path (under /var/lib/netmap-testbed or /opt/netmap-testbed) inside this tree. */
  mapPath(arg: string): string {
    return arg
      .split(`${HOST_STATE_DIR}/`)
      .join(`${this.stateDir}/`)
      .split(`${HOST_OPT_DIR}/`)
      .join(`${this.optDir}/`);
  }

  /** A loaded module; `usesNetmap` makes netmap list it among its holders. */
  loadModule(name: string, options: { srcversion?: string; usesNetmap?: boolean } = {}): void {
    const dir = path.join(this.sysModule, name);
    fs.mkdirSync(path.join(dir, "holders"), { recursive: true });
    fs.writeFileSync(path.join(dir, "initstate"), "live\n");
    fs.writeFileSync(path.join(dir, "refcnt"), "0\n");
    fs.writeFileSync(path.join(dir, "srcversion"), `${options.srcversion ?? `FAKE${name.toUpperCase()}`}\n`);
    if (options.usesNetmap) {
      fs.mkdirSync(path.join(this.sysModule, "netmap", "holders", name), { recursive: true });
    }
  }

  unloadModule(name: string): void {
    fs.rmSync(path.join(this.sysModule, name), { recursive: true, force: true });
    fs.rmSync(path.join(this.sysModule, "netmap", "holders", name), { recursive: true, force: true });
  }

  setParam(name: string, value: string): void {
    const dir = path.join(this.sysModule, "netmap", "parameters");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), `${value}\n`);
  }

  /** A NIC driven by `driver` (module of the same name unless `builtin`), as sysfs links it. */
  addNic(ifname: string, driver: string, options: { builtin?: boolean } = {}): void {
    const driverDir = path.join(this.root, "sys/bus/pci/drivers", driver);
    fs.mkdirSync(driverDir, { recursive: true });
    const moduleLink = path.join(driverDir, "module");
    if (!options.builtin && !fs.existsSync(moduleLink)) {
      fs.mkdirSync(path.join(this.sysModule, driver), { recursive: true });
      fs.symlinkSync(path.join(this.sysModule, driver), moduleLink);
    }
    const dev = path.join(this.sysClassNet, ifname, "device");
    fs.rmSync(path.join(this.sysClassNet, ifname), { recursive: true, force: true });
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(this.sysClassNet, ifname, "operstate"), "up\n");
    fs.writeFileSync(path.join(this.sysClassNet, ifname, "nic"), "");
    fs.symlinkSync(driverDir, path.join(dev, "driver"));
  }

  /** Runs the fake vale-ctl on this tree; throws on a failure other than the listing's exit 1. */
  valeCtl(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(FAKE_VALE_CTL, args, { env: { ...process.env, ...this.env }, encoding: "utf8" });
    if (args.length > 0 && r.status !== 0) {
      throw new Error(`fake vale-ctl ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
    }
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A persistent port created and attached (`vale-ctl -n P; -a SW:P`), or a NIC attached (`-a`/`-h`). */
  attach(name: string, options: { hostStack?: boolean } = {}): void {
    const port = name.slice(name.indexOf(":") + 1);
    if (!fs.existsSync(path.join(this.sysClassNet, port))) this.valeCtl("-n", port);
    this.valeCtl(options.hostStack ? "-h" : "-a", name);
  }

  /** Detach (and delete a persistent port). */
  detach(name: string): void {
    const port = name.slice(name.indexOf(":") + 1);
    this.valeCtl("-d", name);
    if (fs.existsSync(path.join(this.sysClassNet, port, "persistent"))) this.valeCtl("-r", port);
  }

  /** A stamped QEMU prefix whose binary is the QEMU test double. */
  installQemu(prefix: string, configKey: string): void {
    const dir = this.mapPath(prefix);
    fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
    fs.copyFileSync(FAKE_QEMU, path.join(dir, "bin/qemu-system-x86_64"));
    fs.chmodSync(path.join(dir, "bin/qemu-system-x86_64"), 0o755);
    fs.writeFileSync(path.join(dir, ".netmap-testbed-stamp"), `${configKey}\nabc1234\npath /srv/qemu\n`);
  }

  /** A finished netmap build in the cache (stamp + modules), current for the fake kernel. */
  addNetmapBuild(key: string, modules: readonly string[]): void {
    const dir = path.join(this.cacheDir, "build", key);
    fs.mkdirSync(dir, { recursive: true });
    for (const m of modules) fs.writeFileSync(path.join(dir, `${m}.ko`), "");
    fs.writeFileSync(path.join(dir, ".nmtb-built"), "fingerprint\n");
    fs.mkdirSync(path.join(this.stateDir, "netmap"), { recursive: true });
    fs.writeFileSync(path.join(this.stateDir, "netmap", `build-dir.${FAKE_KERNEL_RELEASE}`), `${dir}\n`);
  }

  /**
   * Starts the QEMU test double for a VM with the planner's argv (paths mapped into the tree), as
   * vm.sh --no-systemd would; `edit` changes the argv first. Resolves once the pidfile and the QMP
   * socket exist.
   */
  async startVm(vm: VmPlan, edit: (argv: string[]) => string[] = (a) => a): Promise<number> {
    const argv = edit(vm.qemuArgs.map((a) => this.mapPath(a)));
    const dir = this.mapPath(vm.paths.dir);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "argv"), argv.map((a) => `${a}\0`).join(""));
    const pidfile = this.mapPath(vm.paths.pidFile);
    // As vm.sh does: a killed QEMU leaves its socket behind, and binding it again would fail.
    fs.rmSync(pidfile, { force: true });
    fs.rmSync(this.mapPath(vm.paths.qmpSocket), { force: true });
    const child = spawn(argv[0], argv.slice(1), {
      stdio: "ignore",
      env: { ...process.env, FAKE_QEMU_NO_SSH: "1" },
    });
    this.#children.set(vm.name, child);
    const deadline = Date.now() + 10_000;
    // The double writes its pidfile, then binds its QMP socket: a tree snapshot taken in between
    // would see the socket appear later.
    const qmpSocket = this.mapPath(vm.paths.qmpSocket);
    const started = (): boolean =>
      fs.existsSync(pidfile) && fs.readFileSync(pidfile, "utf8").trim() !== "" && fs.existsSync(qmpSocket);
    while (!started()) {
      if (child.exitCode !== null) throw new Error(`fake QEMU for ${vm.name} exited with ${child.exitCode}`);
      if (Date.now() > deadline)
        throw new Error(`fake QEMU for ${vm.name} wrote no pidfile and QMP socket in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A VM's QEMU opens its VALE ports as it starts (deploy recorded which ones are its).
    const listed = this.valeCtl().stdout;
    for (const port of this.#vmPorts.get(vm.name) ?? []) {
      if (!listed.includes(`${port} bridge_idx`)) this.attach(port);
    }
    return child.pid ?? -1;
  }

  /** Kills the VM's QEMU test double (the one this tree started) and waits for it. */
  async stopVm(name: string): Promise<void> {
    const child = this.#children.get(name);
    this.#children.delete(name);
    const listed = this.valeCtl().stdout;
    for (const port of this.#vmPorts.get(name) ?? []) {
      if (listed.includes(`${port} bridge_idx`)) this.detach(port);
    }
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  /** Everything the plan wants, in place: netmap with its params, patched NICs, VALE ports, QEMU, VMs running. */
  async deploy(plan: HostPlan, options: { vms?: boolean } = {}): Promise<void> {
    this.addNic(plan.netmapLoad.managementInterface, "virtio_net", { builtin: true });
    this.loadModule("netmap");
    for (const [name, value] of Object.entries(plan.netmapLoad.moduleParams))
      this.setParam(name, String(value));
    this.setParam("max_bridges", "8");
    for (const nic of plan.netmapLoad.patchedNics) {
      const module = driverModuleName(nic.driver);
      this.addNic(nic.interface, module);
      this.loadModule(module, { usesNetmap: true });
    }
    for (const sw of plan.switches) {
      for (const port of sw.ports) {
        if (port.vm === undefined) this.attach(port.attachedName);
        else this.#vmPorts.set(port.vm, [...(this.#vmPorts.get(port.vm) ?? []), port.attachedName]);
      }
      for (const uplink of sw.uplinks) {
        this.attach(`${sw.name}:${uplink.interface}`, { hostStack: uplink.attachArgs[0] === "-h" });
      }
    }
    const startVms = options.vms ?? true;
    this.addNetmapBuild("0123456789abcdef", [
      "netmap",
      ...plan.netmapLoad.patchedDrivers.map(driverModuleName),
    ]);
    if (plan.qemuBuild) this.installQemu(plan.qemuBuild.prefix, plan.qemuBuild.configKey);
    if (startVms) {
      for (const vm of plan.vms) await this.startVm(vm);
    }
    const listed = this.valeCtl().stdout;
    const running = new Set(startVms ? plan.vms.map((vm) => vm.name) : []);
    for (const name of expectedValeNames(plan, running)) {
      if (!listed.includes(`${name} bridge_idx`)) throw new Error(`fake VALE lacks ${name}:\n${listed}`);
    }
  }

  /** Stops every process this tree started and removes the tree. */
  async destroy(): Promise<void> {
    for (const name of [...this.#children.keys()]) await this.stopVm(name);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
