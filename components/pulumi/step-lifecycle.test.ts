/**
 * The step lifecycle the engine sees (diff, update, read) against a recording fake session: what
 * replaces, what updates with or without host work, and how refresh tells drift from gone.
 */
import {
  checkStep,
  createStep,
  diffStep,
  readStep,
  setSessionFactoryForTests,
  updateStep,
} from "./step-runner";
import type { RemoteStepInputs, RemoteStepOutputs, StepCommand } from "./step-types";

const ran: string[][] = [];
let readPrints = "{}";

beforeEach(() => {
  ran.length = 0;
  setSessionFactoryForTests(() => {
    const run = async (_step: string, argv: string[]) => {
      ran.push(argv);
      const stdout = argv[0] === "status" ? readPrints : `{"ran":"${argv[0]}"}`;
      return {
        code: 0,
        stdout,
        stderr: "",
        stdoutBytes: Buffer.from(stdout),
        truncated: false,
        signal: undefined,
      };
    };
    return { run, runChecked: run, close: async () => undefined } as never;
  });
});
afterAll(() => setSessionFactoryForTests());

const command = (name: string): StepCommand => ({ argv: [name] });

function inputs(extra: Partial<RemoteStepInputs> = {}): RemoteStepInputs {
  return {
    connection: {
      host: "h1",
      address: "10.0.0.1",
      port: 22,
      user: "root",
      hostKey: "ssh-ed25519 AAAA",
      privateKey: "k1",
    },
    step: "netmap-load",
    create: command("load"),
    delete: command("unload"),
    read: command("status"),
    triggers: ["--param", "buf_num=4096"],
    builtOn: ["install-1"],
    scriptsDigest: "d1",
    ...extra,
  };
}

async function created(extra: Partial<RemoteStepInputs> = {}): Promise<RemoteStepOutputs> {
  const { outs } = await createStep(inputs(extra));
  ran.length = 0;
  return outs;
}

describe("diffStep", () => {
  it("is no change for the same inputs", async () => {
    expect(diffStep(await created(), inputs())).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: true,
    });
  });

  it("replaces, deleting first, on new triggers, a re-created foundation or another host", async () => {
    const olds = await created();
    expect(diffStep(olds, inputs({ triggers: ["--param", "buf_num=8192"] })).replaces).toEqual(["triggers"]);
    expect(diffStep(olds, inputs({ builtOn: ["install-2"] })).replaces).toEqual(["builtOn"]);
    // What the engine passes while it works out which dependents a replacement cascades to.
    expect(
      diffStep(olds, inputs({ builtOn: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as never })).replaces,
    ).toEqual(["builtOn"]);
    const moved = inputs({ connection: { ...inputs().connection, address: "10.0.0.2" } });
    expect(diffStep(olds, moved)).toEqual({
      changes: true,
      replaces: ["connection"],
      deleteBeforeReplace: true,
    });
  });

  it("updates on changed commands or scripts", async () => {
    const olds = await created();
    expect(diffStep(olds, inputs({ create: command("load2") }))).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(diffStep(olds, inputs({ scriptsDigest: "d2" }))).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("updateStep", () => {
  it("runs create again when a script changed, keeping the instance", async () => {
    const olds = await created();
    const { outs } = await updateStep(olds, inputs({ scriptsDigest: "d2" }));
    expect(ran).toEqual([["load"]]);
    expect(outs.instance).toBe(olds.instance);
    expect(outs.scriptsDigest).toBe("d2");
  });

  it("stores new credentials without any host work", async () => {
    const olds = await created();
    const rotated = inputs({ connection: { ...inputs().connection, privateKey: "k2" } });
    expect(diffStep(olds, rotated)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    const { outs } = await updateStep(olds, rotated);
    expect(ran).toEqual([]);
    expect(outs.connection.privateKey).toBe("k2");
    expect(outs.result).toEqual(olds.result);
  });
});

describe("readStep", () => {
  it("keeps a drifted step with what it read, and the next update repairs it", async () => {
    const olds = await created();
    readPrints = '{"present":false,"netmapLoaded":false}';
    const read = await readStep("h1/netmap-load", olds);
    expect(read.id).toBe("h1/netmap-load");
    expect(read.props?.drift).toEqual({ present: false, netmapLoaded: false });
    const refreshed = read.props!;
    expect(diffStep(refreshed, inputs())).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    ran.length = 0;
    const { outs } = await updateStep(refreshed, inputs());
    expect(ran).toEqual([["load"]]);
    expect(outs.drift).toBeUndefined();
  });

  it("drops only a step of which nothing is left, and clears drift once it matches again", async () => {
    const olds = await created();
    readPrints = '{"present":true}';
    const matched = await readStep("id", { ...olds, drift: { present: false } });
    expect(matched.props).toEqual(olds);
    readPrints = '{"present":false,"gone":true}';
    expect(await readStep("id", olds)).toEqual({});
  });
});

describe("checkStep", () => {
  it("refuses inputs a step cannot run with, and lets unknowns of a preview through", () => {
    expect(checkStep(inputs())).toEqual({ inputs: inputs() });
    const bad = checkStep(
      inputs({ create: { argv: [] }, step: "a b", connection: { ...inputs().connection, port: 0 } }),
    );
    expect(bad.failures?.map((f) => f.reason)).toEqual([
      "connection.port must be 1-65535",
      'step "a b": letters, digits and :._- only',
      "create.argv must be a non-empty list of strings",
    ]);
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(
      checkStep(inputs({ create: unknown as never, connection: unknown as never })).failures,
    ).toBeUndefined();
  });

  it("lets an update through whose command a failed step never produced; running it fails that step alone", async () => {
    // pulumi up --continue-on-error checks the steps standing on a failed one, with those values absent.
    const absent = inputs({ create: undefined as never });
    expect(checkStep(absent).failures).toBeUndefined();
    await expect(createStep(absent)).rejects.toThrow(
      /step "[^"]+" has no command: a step it stands on did not run/,
    );
  });
});
