import * as pulumi from "@pulumi/pulumi";
import { FAKE_KEY_PAIR, fakeStepResource } from "../../test/support/fake-steps";
import { resourceNamed, runMockedProgram, urnName } from "../../test/support/pulumi-harness";
import { loadShippedTopology } from "../../test/support/shipped-topologies";
import { RemoteStep, scriptsDigest } from "./remote-step";
import { hostScript } from "./script-bundle";
import { Testbed } from "./testbed";

const connection = { host: "h1", address: "192.0.2.1", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" };

describe("RemoteStep options", () => {
  it("merges the caller's secret outputs and replacement order with its own", async () => {
    const resources = await runMockedProgram(() => {
      new RemoteStep(
        "s",
        { kind: "Vm", connection, step: "vm:a", create: { argv: ["true"] } },
        { additionalSecretOutputs: ["result"], deleteBeforeReplace: false },
      );
    });
    const step = resourceNamed(resources, "s");
    expect(step.type).toBe("pulumi-nodejs:dynamic/netmap-testbed:Vm");
    expect([...step.additionalSecretOutputs].sort()).toEqual(["connection", "result"]);
    expect(step.deleteBeforeReplace).toBe(false);
  });

  it("a Testbed's dependsOn holds back every host's first steps", async () => {
    const topology = loadShippedTopology("paper-2015.yaml");
    const resources = await runMockedProgram(() => {
      const gate = new RemoteStep("gate", {
        kind: "HostScripts",
        connection,
        step: "gate",
        create: { argv: ["true"] },
      });
      new Testbed(
        "t",
        { topology, credentials: { privateKey: pulumi.secret(FAKE_KEY_PAIR.private) } },
        { dependsOn: [gate] },
      );
    }, fakeStepResource);
    const scripts = resources.filter((r) => r.name.endsWith("-scripts"));
    expect(scripts.length).toBe(topology.hosts.length);
    for (const step of scripts) expect(step.dependencies.map(urnName)).toContain("gate");
  });
});

describe("scriptsDigest", () => {
  it("covers the scripts a step runs and the library they source, and nothing else", () => {
    const build = scriptsDigest([{ argv: ["bash", hostScript("netmap/build.sh"), "--x"] }]);
    expect(build).toMatch(/^[0-9a-f]{16}$/);
    expect(scriptsDigest([{ argv: ["bash", hostScript("netmap/build.sh"), "--y"] }])).toBe(build);
    expect(scriptsDigest([{ argv: ["bash", hostScript("netmap/load.sh")] }])).not.toBe(build);
    expect(scriptsDigest([{ argv: ["bash", "-c", "true"] }])).toBe("");
  });
});
