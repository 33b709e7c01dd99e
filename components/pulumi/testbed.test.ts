import * as pulumi from "@pulumi/pulumi";
import { utils as sshUtils } from "ssh2";
import {
  isSecretValue,
  resourceNamed,
  runMockedProgram,
  unwrapSecrets,
  urnName,
  type RegisteredResource,
} from "../../test/support/pulumi-harness";
import { fakeStepResource } from "../../test/support/fake-steps";
import { loadShippedTopology } from "../../test/support/shipped-topologies";
import type { TopologyModel } from "../topology/model";
import { Testbed, publicKeyOf } from "./testbed";

/** paper-2015, plus a persistent port for pkt-gen on h1 (its VMs' ports are their QEMUs' own). */
const shipped = loadShippedTopology("paper-2015.yaml");
const paper: TopologyModel = {
  ...shipped,
  switches: shipped.switches.map((sw) =>
    sw.name === "vale0" ? { ...sw, ports: [...sw.ports, { name: "pg", rings: 2 }] } : sw,
  ),
};
const keyPair = sshUtils.generateKeyPairSync("ed25519");

/** Whether replacing `dependency` replaces `name` too: the engine cascades only through inputs. */
function builtOn(resources: readonly RegisteredResource[], name: string, dependency: string): boolean {
  const urns = resourceNamed(resources, name).propertyDependencies.builtOn ?? [];
  return urns.some((urn) => urnName(urn) === dependency);
}

const STEP_TYPE_PREFIX = "pulumi-nodejs:dynamic/netmap-testbed:";

describe("Testbed (paper-2015 topology)", () => {
  let resources: RegisteredResource[];
  beforeAll(async () => {
    resources = await runMockedProgram(() => {
      new Testbed("paper", {
        topology: paper,
        credentials: { privateKey: pulumi.secret(keyPair.private) },
      });
    }, fakeStepResource);
  });

  it("builds the tree testbed → host → kernel/switches/VMs", () => {
    expect(resourceNamed(resources, "paper").type).toBe("netmap-testbed:index:Testbed");
    expect(urnName(resourceNamed(resources, "paper-h1").parent)).toBe("paper");
    expect(urnName(resourceNamed(resources, "paper-h1-netmap").parent)).toBe("paper-h1");
    expect(urnName(resourceNamed(resources, "paper-h1-netmap-build").parent)).toBe("paper-h1-netmap");
    const hosts = resources.filter((r) => r.type === "netmap-testbed:index:NetmapHost").map((r) => r.name);
    expect(hosts.sort()).toEqual(paper.hosts.map((h) => `paper-${h.name}`).sort());
    const vms = resources.filter((r) => r.type === "netmap-testbed:index:PtnetVm").map((r) => r.name);
    expect(vms.sort()).toEqual(paper.vms.map((vm) => `paper-${vm.host}-${vm.name}`).sort());
  });

  it("orders the kernel chain and everything after netmap is loaded", () => {
    const chain = ["prepare", "fetch", "build", "install", "load", "persist"].map(
      (s) => `paper-h1-netmap-${s}`,
    );
    for (let i = 1; i < chain.length; i++) {
      expect(builtOn(resources, chain[i], chain[i - 1])).toBe(true);
      expect(resourceNamed(resources, chain[i]).startedAt).toBeGreaterThanOrEqual(
        resourceNamed(resources, chain[i - 1]).finishedAt,
      );
    }
    expect(builtOn(resources, "paper-h1-netmap-prepare", "paper-h1-scripts")).toBe(true);
    const ports = resources.filter((r) => r.name.includes("-port-"));
    expect(ports.map((port) => port.name)).toEqual(["paper-h1-vale0-port-pg"]);
    for (const port of ports) {
      const host = port.name.split("-")[1];
      expect(builtOn(resources, port.name, `paper-${host}-netmap-load`)).toBe(true);
    }
  });

  it("builds each VM on QEMU, netmap and its image, so re-creating one re-creates it; its VALE ports are its QEMU's", () => {
    for (const vm of paper.vms) {
      const name = `paper-${vm.host}-${vm.name}-vm`;
      expect(builtOn(resources, name, `paper-${vm.host}-qemu-build`)).toBe(true);
      expect(builtOn(resources, name, `paper-${vm.host}-netmap-load`)).toBe(true);
      expect(builtOn(resources, name, `paper-${vm.host}-image-${vm.image}-fetch`)).toBe(true);
      expect(builtOn(resources, name, `paper-${vm.host}-${vm.name}-seed`)).toBe(true);
      for (const nic of vm.nics) {
        if (nic.kind === "vale") {
          const portStep = `paper-${vm.host}-${nic.switch}-port-${nic.port}`;
          expect(resources.some((r) => r.name === portStep)).toBe(false);
        }
      }
      // A VM is not re-created because persistence or another VM is.
      expect(builtOn(resources, name, `paper-${vm.host}-netmap-persist`)).toBe(false);
      // Its seed waits for the host's packages (the seed tool) without being re-created with them.
      const seed = resourceNamed(resources, `paper-${vm.host}-${vm.name}-seed`);
      expect(seed.dependencies.map(urnName)).toContain(`paper-${vm.host}-netmap-prepare`);
      expect(builtOn(resources, seed.name, `paper-${vm.host}-netmap-prepare`)).toBe(false);
      const prepare = unwrapSecrets(resourceNamed(resources, `paper-${vm.host}-netmap-prepare`).inputs) as {
        create: { argv: string[] };
      };
      expect(prepare.create.argv.join(" ")).toContain("--vm-tools 1");
      const vmStep = unwrapSecrets(resourceNamed(resources, name).inputs) as { create: { argv: string[] } };
      const argv = vmStep.create.argv;
      expect(argv.slice(0, argv.indexOf("--"))).toEqual(expect.arrayContaining(["--restart", "no"]));
      const qemuArgv = argv.slice(argv.indexOf("--") + 1);
      expect(qemuArgv[0]).toMatch(/\/opt\/netmap-testbed\/qemu\/[0-9a-f]+\/bin\/qemu-system-x86_64$/);
      expect(qemuArgv.filter((a) => a === "ptnet-pci" || a.startsWith("ptnet-pci,")).length).toBe(
        vm.nics.length,
      );
    }
  });

  it("keeps the SSH key secret in every step and gives the guests its public half", () => {
    const steps = resources.filter((r) => r.type.startsWith(STEP_TYPE_PREFIX));
    expect(steps.length).toBeGreaterThan(10);
    for (const step of steps) {
      expect(isSecretValue(step.inputs.connection)).toBe(true);
      expect(step.additionalSecretOutputs).toContain("connection");
    }
    const seed = steps.find((s) => s.name.endsWith("-seed"));
    const seedArgv = (unwrapSecrets(seed?.inputs) as { create: { argv: string[] } }).create.argv;
    expect(seedArgv).toContain(publicKeyOf(keyPair.private));
    expect(JSON.stringify(seedArgv)).not.toContain("PRIVATE KEY");
  });

  it("feeds the kernel release and resolved source into the build", () => {
    const build = unwrapSecrets(resourceNamed(resources, "paper-h1-netmap-build").inputs) as {
      create: { argv: string[] };
      triggers: string[];
    };
    expect(build.create.argv).toEqual(
      expect.arrayContaining(["--kernel-release", "6.1.0-50-amd64", "--commit", "89607e14"]),
    );
    expect(build.create.argv).toEqual(expect.arrayContaining(["--select-version", "ixgbe:6.1.6"]));
    // The build key (kernel release + commit + build settings): another one rebuilds.
    expect(build.triggers).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
  });

  it("lets QEMU's build install its dependencies unless the topology says the hosts have them", () => {
    const qemu = unwrapSecrets(resourceNamed(resources, "paper-h1-qemu-build").inputs) as {
      create: { argv: string[] };
    };
    const argv = qemu.create.argv.join(" ");
    expect(paper.qemu?.installBuildDeps ?? true).toBe(true);
    expect(argv).toContain("--install-deps 1");
  });

  it("gives each step kind its own resource type", () => {
    const kinds = new Set(
      resources
        .filter((r) => r.type.startsWith(STEP_TYPE_PREFIX))
        .map((r) => r.type.slice(STEP_TYPE_PREFIX.length)),
    );
    expect([...kinds].sort()).toEqual(
      expect.arrayContaining([
        "HostScripts",
        "NetmapBuild",
        "NetmapLoad",
        "ValePort",
        "QemuBuild",
        "Vm",
        "VmSeed",
      ]),
    );
    expect(resources.some((r) => r.type === "pulumi-nodejs:dynamic:Resource")).toBe(false);
  });
});

describe("publicKeyOf", () => {
  it("reads an encrypted key with its passphrase, and says what is wrong without it", () => {
    const encrypted = sshUtils.generateKeyPairSync("ed25519", {
      passphrase: "s3cret",
      cipher: "aes256-ctr",
      rounds: 16,
    });
    expect(publicKeyOf(encrypted.private, "s3cret")).toBe(encrypted.public.split(" ").slice(0, 2).join(" "));
    expect(() => publicKeyOf(encrypted.private)).toThrow(/sshPrivateKey is not a key ssh2 can read/);
  });
});
