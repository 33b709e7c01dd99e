/**
 * Reaching a guest through its host: the guest's sshd is forwarded to the host's 127.0.0.1 by QEMU
 * (`hostfwd=tcp:127.0.0.1:P-:22`), so the runner opens an SSH connection to the host (pinned host
 * key) and tunnels each guest connection through it with ssh2's `forwardOut` (a direct-tcpip
 * channel, like `ssh -J`). A local listener on 127.0.0.1 hands each tunnel to a `HostSession`, so
 * guests get the same pinned-key, argv-only session as hosts.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { Client } from "ssh2";
import type { HostCredentials } from "../host";
import { describeKey, hostKeyAlgorithmsFor, parseOpenSshPublicKey } from "../host/host-key";

/** Where and how to reach the host that carries the tunnels. */
export interface JumpHostOptions {
  /** Host name, for messages. */
  readonly name: string;
  readonly address: string;
  /** SSH port. Defaults to 22. */
  readonly port?: number;
  /** Login user. Defaults to root. */
  readonly user?: string;
  /** The host's pinned OpenSSH public key line; any other key is refused. */
  readonly hostKey: string;
  readonly credentials: HostCredentials;
  /** Time allowed for the connection, in milliseconds. Defaults to 10000. */
  readonly connectTimeoutMs?: number;
}

export class SshJump {
  readonly #client: Client;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();

  private constructor(client: Client) {
    this.#client = client;
  }

  /** Connects to the jump host, verifying its pinned key. */
  static open(options: JumpHostOptions): Promise<SshJump> {
    const pinned = parseOpenSshPublicKey(options.hostKey);
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let presented: Buffer | undefined;
      let keyRejected = false;
      client.once("ready", () => {
        client.removeAllListeners("error");
        client.on("error", () => undefined);
        resolve(new SshJump(client));
      });
      client.once("error", (error: Error) => {
        client.destroy();
        const why = keyRejected
          ? `host key mismatch (pinned: ${describeKey(pinned.blob)}, presented: ${presented ? describeKey(presented) : "none"})`
          : error.message;
        reject(new Error(`jump host ${options.name} (${options.address}:${options.port ?? 22}): ${why}`));
      });
      client.connect({
        host: options.address,
        port: options.port ?? 22,
        username: options.user ?? "root",
        readyTimeout: timeoutMs,
        keepaliveInterval: 15_000,
        algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.type) },
        hostVerifier: (key: Buffer): boolean => {
          presented = Buffer.from(key);
          keyRejected = !presented.equals(pinned.blob);
          return !keyRejected;
        },
        ...(options.credentials.privateKey !== undefined
          ? { privateKey: options.credentials.privateKey }
          : {}),
        ...(options.credentials.passphrase !== undefined
          ? { passphrase: options.credentials.passphrase }
          : {}),
        ...(options.credentials.password !== undefined ? { password: options.credentials.password } : {}),
        ...(options.credentials.agent !== undefined ? { agent: options.credentials.agent } : {}),
      });
    });
  }

  /**
   * Listens on 127.0.0.1 (a free port) and forwards each connection to `destHost:destPort` as seen
   * from the jump host. Resolves with the local port.
   */
  async forward(destHost: string, destPort: number): Promise<number> {
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      this.#client.forwardOut("127.0.0.1", 0, destHost, destPort, (error, stream) => {
        if (error) {
          socket.destroy();
          return;
        }
        stream.on("error", () => socket.destroy());
        socket.pipe(stream).pipe(socket);
        socket.on("close", () => stream.close());
      });
    });
    this.#servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Closes every listener, tunnel and the connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.#client.end();
  }
}
