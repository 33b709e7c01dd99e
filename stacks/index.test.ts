import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { assertRunnerBuilt } from "../components/pulumi";
import { FAKE_KEY_PAIR, fakeStepResource } from "../test/support/fake-steps";
import { runMockedProgram, type RegisteredResource } from "../test/support/pulumi-harness";

const root = path.join(__dirname, "..");

/** The stack file's config, as `pulumi up --stack NAME` would hand it to the program. */
function stackConfig(stack: string): Record<string, string> {
  const file = path.join(__dirname, `Pulumi.${stack}.yaml`);
  const config = (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value)]));
}

async function runStack(stack: string, extra: Record<string, string> = {}): Promise<RegisteredResource[]> {
  pulumi.runtime.setAllConfig({ ...stackConfig(stack), ...extra });
  return runMockedProgram(
    () => {
      jest.isolateModules(() => {
        // The program is a module with effects, loaded afresh per stack as Pulumi loads it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require("./index");
      });
    },
    fakeStepResource,
    { stack },
  );
}

beforeAll(() => {
  // The program refuses to start without a current compiled runner; `npm test` builds it first.
  try {
    assertRunnerBuilt();
  } catch {
    execFileSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
  }
});

describe("the Pulumi program behind every stack", () => {
  it("deploys the lab stack's topology onto its two bare-metal hosts", async () => {
    // `pulumi config set --secret sshPrivateKey < key`, as the stack file says.
    const resources = await runStack("lab", { "netmap-testbed:sshPrivateKey": FAKE_KEY_PAIR.private });
    const hosts = resources.filter((r) => r.type === "netmap-testbed:index:NetmapHost").map((r) => r.name);
    expect(hosts.sort()).toEqual(["lab-h1", "lab-h2"]);
    expect(resources.some((r) => r.type === "netmap-testbed:index:PtnetVm")).toBe(true);
    expect(resources.some((r) => r.type === "netmap-testbed:index:LocalLabHost")).toBe(false);
  });

  it("makes local lab hosts for the local stack and deploys onto them", async () => {
    const resources = await runStack("local");
    const labs = resources.filter((r) => r.type === "netmap-testbed:index:LocalLabHost");
    expect(labs.map((r) => r.name)).toEqual(["local-lab1"]);
    const boot = resources.find((r) => r.name === "local-lab1-boot");
    expect(JSON.stringify(boot?.inputs.create)).toMatch(/kernel-builds\/lab\/boot-host\.sh/);
    expect(JSON.stringify(boot?.inputs.delete)).toMatch(/kernel-builds\/lab\/stop-host\.sh/);
    expect(resources.some((r) => r.name === "local-lab1-netmap-load")).toBe(true);
  });
});
