import * as pulumi from "@pulumi/pulumi";
import {
  isSecretValue,
  resourceNamed,
  runMockedProgram,
  unwrapSecrets,
} from "../../test/support/pulumi-harness";
import { NetmapHost } from "./netmap-host";
import { HOST_SCRIPTS_ROOT, scriptBundle } from "./script-bundle";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKhYc3a5lDfsl3lDDPXgHCh3cLBLpP0jIqZRBsbv+VFL test";
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----";

describe("NetmapHost", () => {
  it("installs the script bundle as a child step, with the credentials secret", async () => {
    const resources = await runMockedProgram(() => {
      new NetmapHost("h1", {
        address: "192.0.2.11",
        hostKey: HOST_KEY,
        privateKey: pulumi.secret(PRIVATE_KEY),
      });
    });
    const host = resourceNamed(resources, "h1");
    const scripts = resourceNamed(resources, "h1-scripts");
    expect(host.type).toBe("netmap-testbed:index:NetmapHost");
    expect(scripts.parent).toContain("NetmapHost::h1");
    expect(scripts.additionalSecretOutputs).toContain("connection");
    expect(scripts.deleteBeforeReplace).toBe(true);

    expect(isSecretValue(scripts.inputs.connection)).toBe(true);
    const connection = unwrapSecrets(scripts.inputs.connection) as Record<string, unknown>;
    expect(connection).toMatchObject({ host: "h1", address: "192.0.2.11", port: 22, user: "root" });
    expect(connection.privateKey).toBe(PRIVATE_KEY);

    // The bundle itself is packed by the runner: the state keeps its hash only.
    const create = scripts.inputs.create as { argv: string[]; stdin?: string; scriptBundle?: string };
    const bundle = scriptBundle();
    expect(create.argv).toContain(bundle.hash);
    expect(create.argv).toContain(HOST_SCRIPTS_ROOT);
    expect(create.scriptBundle).toBe(bundle.hash);
    expect(create.stdin).toBeUndefined();
    expect(Buffer.from(bundle.base64, "base64").subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it("defaults port and user, and carries an agent socket instead of a key", async () => {
    const resources = await runMockedProgram(() => {
      new NetmapHost("h2", {
        address: "h2.lab",
        port: 2222,
        user: "lab",
        hostKey: HOST_KEY,
        agentSocket: "/run/agent",
      });
    });
    const connection = unwrapSecrets(resourceNamed(resources, "h2-scripts").inputs.connection);
    expect(connection).toEqual({
      host: "h2",
      address: "h2.lab",
      port: 2222,
      user: "lab",
      hostKey: HOST_KEY,
      agentSocket: "/run/agent",
    });
  });
});
