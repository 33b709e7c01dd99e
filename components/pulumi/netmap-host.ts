import * as pulumi from "@pulumi/pulumi";
import { RemoteStep } from "./remote-step";
import { installBundleArgv, removeBundlesArgv, scriptBundle } from "./script-bundle";
import type { StepConnection } from "./step-types";

export interface NetmapHostArgs {
  /** Host name used in messages and step ids. Defaults to the resource name. */
  hostName?: string;
  /** IPv4/IPv6 address or DNS name of the host's management interface. */
  address: pulumi.Input<string>;
  /** SSH port. Defaults to 22. */
  port?: pulumi.Input<number>;
  /** SSH user. Defaults to "root"; any other user needs passwordless sudo. */
  user?: pulumi.Input<string>;
  /** The host's OpenSSH public host key line; nothing else is trusted (no trust on first use). */
  hostKey: pulumi.Input<string>;
  /** Private key text for `user`. Stored as a secret. */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of an encrypted `privateKey`. Stored as a secret. */
  passphrase?: pulumi.Input<string>;
  /** Password for `user`, when no key is used. Stored as a secret. */
  password?: pulumi.Input<string>;
  /** ssh-agent socket on the controller, instead of a key. */
  agentSocket?: pulumi.Input<string>;
}

/**
 * A Linux host reached over SSH with a pinned host key, with netmap-testbed's host scripts
 * installed on it. Every other component on the host depends on `scripts`.
 */
export class NetmapHost extends pulumi.ComponentResource {
  public readonly hostName: string;
  /** What every step on this host connects with; secret because it carries the credentials. */
  public readonly connection: pulumi.Output<StepConnection>;
  /** The installed script bundle: depend on this before running any host script. */
  public readonly scripts: RemoteStep;

  constructor(name: string, args: NetmapHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:NetmapHost", name, {}, opts);
    this.hostName = args.hostName ?? name;
    const hostName = this.hostName;
    this.connection = pulumi.secret(
      pulumi
        .all([
          args.address,
          args.port ?? 22,
          args.user ?? "root",
          args.hostKey,
          args.privateKey,
          args.passphrase,
          args.password,
          args.agentSocket,
        ])
        .apply(
          ([
            address,
            port,
            user,
            hostKey,
            privateKey,
            passphrase,
            password,
            agentSocket,
          ]): StepConnection => ({
            host: hostName,
            address,
            port,
            user,
            hostKey,
            ...(privateKey ? { privateKey } : {}),
            ...(passphrase ? { passphrase } : {}),
            ...(password ? { password } : {}),
            ...(agentSocket ? { agentSocket } : {}),
          }),
        ),
    );
    const bundle = scriptBundle();
    this.scripts = new RemoteStep(
      `${name}-scripts`,
      {
        kind: "HostScripts",
        connection: this.connection,
        step: "install-scripts",
        create: { argv: installBundleArgv(bundle.hash), scriptBundle: bundle.hash },
        delete: { argv: removeBundlesArgv() },
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.registerOutputs({ scriptsHash: bundle.hash });
  }
}
