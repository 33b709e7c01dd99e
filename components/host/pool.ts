import { HostSession, type HostSessionOptions } from "./session";

/** Options applied to every session of a pool unless a host's own options say otherwise. */
export type HostSessionDefaults = Partial<
  Omit<HostSessionOptions, "name" | "address" | "hostKey" | "credentials">
>;

/** One {@link HostSession} (one SSH connection) per host name. */
export class HostSessionPool {
  readonly #sessions = new Map<string, { session: HostSession; identity: string }>();

  constructor(private readonly defaults: HostSessionDefaults = {}) {}

  /**
   * Returns the session for `options.name`, creating it on first use. Asking again for the same
   * name with a different address, port, user or host key is an error (two hosts, one name).
   */
  get(options: HostSessionOptions): HostSession {
    const identity = JSON.stringify([
      options.address,
      options.port ?? this.defaults.port ?? 22,
      options.user ?? this.defaults.user ?? "root",
      options.hostKey?.trim().split(/\s+/).slice(0, 2).join(" ") ?? "",
    ]);
    const existing = this.#sessions.get(options.name);
    if (existing) {
      if (existing.identity !== identity) {
        throw new Error(
          `host ${options.name}: already connected as ${existing.identity}, now asked for ${identity}; host names must be unique`,
        );
      }
      return existing.session;
    }
    const session = new HostSession({ ...this.defaults, ...options });
    this.#sessions.set(options.name, { session, identity });
    return session;
  }

  /** The session for a host name, if one was created. */
  find(name: string): HostSession | undefined {
    return this.#sessions.get(name)?.session;
  }

  /** Host names with a session. */
  get names(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Closes every session and forgets them. */
  async closeAll(): Promise<void> {
    const sessions = [...this.#sessions.values()].map((entry) => entry.session);
    this.#sessions.clear();
    await Promise.all(sessions.map((session) => session.close()));
  }
}
