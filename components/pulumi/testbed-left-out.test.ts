/**
 * Steps left out of an update before they ever existed (`pulumi up --exclude` or `--target`): the
 * engine skips their creation and gives them no outputs, and refuses the update if anything it
 * does run depends on them. The program must still run to the end: what it derives from such a
 * step only feeds steps left out as well. Seen with the real engine: `npm run demo` leaving out
 * the VMs' image upload crashed the program ("Cannot read properties of undefined (reading
 * 'archive')"). Here the mock monitor answers left-out steps as the engine does, with no outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import { runMockedProgram, resourceNamed, unwrapSecrets } from "../../test/support/pulumi-harness";
import { fakeStepResource } from "../../test/support/fake-steps";
import { loadShippedTopology } from "../../test/support/shipped-topologies";
import { NOT_CREATED_TEXT } from "./step-result";
import { Testbed } from "./testbed";

const STEP_TYPE = "pulumi-nodejs:dynamic/netmap-testbed:";

/** A mock monitor under which the steps of these kinds are left out, and the others run. */
function leavingOut(kinds: readonly string[] | "all") {
  return async (args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> => {
    const kind = args.type.startsWith(STEP_TYPE) ? args.type.slice(STEP_TYPE.length) : undefined;
    if (kind !== undefined && (kinds === "all" || kinds.includes(kind))) return { id: "", state: {} };
    return fakeStepResource(args);
  };
}

describe("Testbed with steps left out of the update", () => {
  const local = loadShippedTopology("local.yaml");
  const failures: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    failures.push(reason);
  };

  beforeEach(() => {
    failures.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  it("runs to the end when the VMs and what only they need are left out, as the demo does without KVM", async () => {
    const resources = await runMockedProgram(
      () => {
        new Testbed("local", { topology: local });
      },
      leavingOut(["GuestImagePack", "GuestImageStore", "GuestNetmapUpload", "VmSeed", "Vm"]),
    );
    expect(failures).toEqual([]);
    // A left-out step's dependents read placeholders; they are left out too, so nothing runs them.
    const store = unwrapSecrets(resourceNamed(resources, "local-lab1-image-lab-store").inputs) as {
      triggers: string[];
    };
    expect(store.triggers).toEqual([NOT_CREATED_TEXT]);
    // What was not left out got the real results.
    const load = unwrapSecrets(resourceNamed(resources, "local-lab1-netmap-load").inputs) as {
      create: { argv: string[] };
    };
    expect(load.create.argv.join(" ")).not.toContain("undefined");
  });

  it("runs to the end when every step is left out (an update that targets nothing new)", async () => {
    await runMockedProgram(() => {
      new Testbed("local", { topology: local });
    }, leavingOut("all"));
    expect(failures).toEqual([]);
  });
});
