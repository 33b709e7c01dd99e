import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { packageRoot } from "./package-root";
import { assertRunnerBuilt, runtimeProvider } from "./provider-runtime";

/** Evaluates a serialised provider the way the engine's dynamic-provider host does, in `cwd`. */
function runSerialized(serialized: string, cwd: string, calls: string): unknown {
  const moduleFile = path.join(cwd, "serialized-provider.js");
  fs.writeFileSync(moduleFile, serialized);
  const driver = `
    const provider = require(${JSON.stringify(moduleFile)}).handler();
    (async () => { process.stdout.write(JSON.stringify(await (async () => { ${calls} })())); })();`;
  return JSON.parse(execFileSync(process.execPath, ["-e", driver], { cwd, encoding: "utf8" }));
}

describe("runtimeProvider", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-provider-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("captures no path of this checkout and loads the runner through the package installed where the program runs", async () => {
    // A "user project" whose node_modules has a netmap-testbed with a runner of its own.
    const pkg = path.join(dir, "node_modules", "netmap-testbed");
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(
      path.join(pkg, "package.json"),
      JSON.stringify({
        name: "netmap-testbed",
        exports: { "./internal/remote-step-runner": "./runner.js" },
      }),
    );
    fs.writeFileSync(
      path.join(pkg, "runner.js"),
      `exports.handlers = {
         create: async (inputs) => ({ id: "id-" + inputs.step, outs: { ...inputs, from: __filename, pid: process.pid } }),
         diff: async () => ({ changes: true, replaces: ["builtOn"], deleteBeforeReplace: true }),
       };`,
    );
    const provider = runtimeProvider("remote-step-runner");
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    expect(serialized.text).not.toContain(packageRoot());
    expect(serialized.text).not.toContain("ssh2");

    const out = runSerialized(
      serialized.text,
      dir,
      `return { created: await provider.create({ step: "build" }), diff: await provider.diff("id", {}, {}), pid: process.pid };`,
    ) as {
      created: { id: string; outs: { from: string; pid: number } };
      diff: { replaces: string[] };
      pid: number;
    };
    expect(out.created.id).toBe("id-build");
    expect(out.created.outs.from).toBe(fs.realpathSync(path.join(pkg, "runner.js")));
    expect(out.created.outs.pid).toBe(out.pid);
    expect(out.diff.replaces).toEqual(["builtOn"]);
  });

  it("from a checkout of this project, finds the project's own compiled runner by the package's name", async () => {
    assertRunnerBuilt();
    const provider = runtimeProvider("remote-step-runner");
    const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    const out = runSerialized(
      serialized.text,
      packageRoot(),
      `return await provider.diff("id", { triggers: ["a"], builtOn: [], connection: { host: "h", address: "a", port: 22, user: "root" } },
                                        { triggers: ["b"], builtOn: [], connection: { host: "h", address: "a", port: 22, user: "root" } });`,
    );
    fs.rmSync(path.join(packageRoot(), "serialized-provider.js"), { force: true });
    expect(out).toEqual({ changes: true, replaces: ["triggers"], deleteBeforeReplace: true });
  });
});

describe("assertRunnerBuilt", () => {
  it("refuses a missing or stale build", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-stale-"));
    try {
      expect(() => assertRunnerBuilt(root)).toThrow(/is missing; run `npm run build`/);
      const compiled = path.join(root, "dist", "components", "pulumi", "step-runner.js");
      fs.mkdirSync(path.dirname(compiled), { recursive: true });
      fs.writeFileSync(compiled, "");
      fs.mkdirSync(path.join(root, "components"));
      const source = path.join(root, "components", "x.ts");
      fs.writeFileSync(source, "");
      const past = new Date(Date.now() - 60_000);
      fs.utimesSync(compiled, past, past);
      expect(() => assertRunnerBuilt(root)).toThrow(/older than the sources/);
      fs.utimesSync(compiled, new Date(), new Date());
      expect(() => assertRunnerBuilt(root)).not.toThrow();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
