/**
 * SSH sessions to the machines a playbook uses: topology hosts directly (pinned keys from the
 * topology or the host-key file), guests through their host (see jump.ts).
 */
import { HostSession, type HostCredentials } from "../host";
import { vmPaths } from "../plan/vm";
import type { HostSpec, TopologyModel } from "../topology/model";
import { hostKeyFromConsole, type KnownMachineKey } from "./host-keys";
import { SshJump } from "./jump";
import { machineKey, type MachineRef } from "./resolve";

export interface MachineAccessOptions {
  readonly credentials: HostCredentials;
  /** Keys (and, for local-lab hosts, addresses) from `--host-key-file`, by host or VM name. Defaults to none. */
  readonly knownKeys?: ReadonlyMap<string, KnownMachineKey>;
  /** Login user in guests (make-seed.sh's default user, with password-less sudo). Defaults to "netmap". */
  readonly guestUser?: string;
  /** Time allowed to connect to each machine, in milliseconds. Defaults to 15000. */
  readonly connectTimeoutMs?: number;
}

export interface Machine {
  /** "host:NAME" or "vm:NAME". */
  readonly key: string;
  readonly name: string;
  readonly kind: "host" | "vm";
  readonly session: HostSession;
}

interface HostAccess {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
}

export class Machines {
  readonly #topology: TopologyModel;
  readonly #options: MachineAccessOptions;
  readonly #machines = new Map<string, Promise<Machine>>();
  readonly #jumps = new Map<string, Promise<SshJump>>();

  constructor(topology: TopologyModel, options: MachineAccessOptions) {
    this.#topology = topology;
    this.#options = options;
  }

  /** The session for a machine, connected on first use. */
  get(ref: MachineRef): Promise<Machine> {
    const key = machineKey(ref);
    let machine = this.#machines.get(key);
    if (!machine) {
      machine = ref.kind === "host" ? this.#host(ref.host) : this.#guest(ref);
      this.#machines.set(key, machine);
    }
    return machine;
  }

  /** Sessions opened so far (for cleanup and provenance), in opening order. */
  async opened(): Promise<Machine[]> {
    const settled = await Promise.allSettled(this.#machines.values());
    return settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  }

  async closeAll(): Promise<void> {
    const machines = await this.opened();
    await Promise.all(machines.map((machine) => machine.session.close()));
    const jumps = await Promise.allSettled(this.#jumps.values());
    await Promise.all(jumps.map((jump) => (jump.status === "fulfilled" ? jump.value.close() : undefined)));
    this.#machines.clear();
    this.#jumps.clear();
  }

  #hostSpec(name: string): HostSpec {
    const host = this.#topology.hosts.find((candidate) => candidate.name === name);
    if (!host) throw new Error(`host ${name} is not in topology ${this.#topology.name}`);
    return host;
  }

  #access(name: string): HostAccess {
    const host = this.#hostSpec(name);
    if (host.access.kind === "remote") {
      const { address, port, user, hostKey } = host.access;
      return { address, port, user, hostKey };
    }
    const known = this.#options.knownKeys?.get(name);
    if (!known || known.address === undefined || known.port === undefined) {
      throw new Error(
        `host ${name} is a local-lab host: its address and host key are known only once the lab runs; ` +
          `give them with --host-key-file (a line "${name} 127.0.0.1:PORT ssh-ed25519 AAAA…", see docs/playbooks.md)`,
      );
    }
    return { address: known.address, port: known.port, user: "root", hostKey: known.hostKey };
  }

  async #host(name: string): Promise<Machine> {
    const access = this.#access(name);
    const session = new HostSession({
      name,
      ...access,
      credentials: this.#options.credentials,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 15_000,
    });
    await session.connect();
    return { key: `host:${name}`, name, kind: "host", session };
  }

  #jump(host: string): Promise<SshJump> {
    let jump = this.#jumps.get(host);
    if (!jump) {
      const access = this.#access(host);
      jump = SshJump.open({
        name: host,
        ...access,
        credentials: this.#options.credentials,
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 15_000,
      });
      this.#jumps.set(host, jump);
    }
    return jump;
  }

  async #guestHostKey(vm: string, host: string): Promise<string> {
    const known = this.#options.knownKeys?.get(vm);
    if (known) return known.hostKey;
    const hostMachine = await this.get({ kind: "host", host });
    const consoleLog = vmPaths(vm).serialLog;
    const result = await hostMachine.session.run(`guest-key:${vm}`, ["cat", consoleLog], {
      timeoutMs: 20_000,
    });
    const key = result.code === 0 ? hostKeyFromConsole(result.stdout) : undefined;
    if (key === undefined) {
      throw new Error(
        `VM ${vm}: no host key: cloud-init's "BEGIN SSH HOST KEY KEYS" block is not in ${host}:${consoleLog}; ` +
          `give the guest's key with --host-key-file (a line "${vm} ssh-ed25519 AAAA…")`,
      );
    }
    return key;
  }

  async #guest(ref: Extract<MachineRef, { kind: "vm" }>): Promise<Machine> {
    const hostKey = await this.#guestHostKey(ref.vm, ref.host);
    const jump = await this.#jump(ref.host);
    const localPort = await jump.forward("127.0.0.1", ref.sshForwardPort);
    const session = new HostSession({
      name: ref.vm,
      address: "127.0.0.1",
      port: localPort,
      user: this.#options.guestUser ?? "netmap",
      hostKey,
      credentials: this.#options.credentials,
      sudo: true,
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 15_000,
    });
    await session.connect();
    return { key: `vm:${ref.vm}`, name: ref.vm, kind: "vm", session };
  }
}
