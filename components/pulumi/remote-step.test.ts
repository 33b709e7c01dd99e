import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { compiledRunnerPath, stepProvider } from "./remote-step";

describe("stepProvider", () => {
  it("survives Pulumi's closure serialisation and loads the runner by path in a fresh process", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-provider-"));
    try {
      const fakeRunner = path.join(dir, "runner.js");
      fs.writeFileSync(
        fakeRunner,
        `exports.createStep = async (inputs) => ({ id: "id-" + inputs.step, outs: { ...inputs, result: { ran: process.pid } } });
         exports.diffStep = () => ({ changes: true, replaces: ["triggers"], deleteBeforeReplace: true });`,
      );
      const provider = stepProvider(fakeRunner);
      // What pulumi.dynamic.Resource stores under __provider, and the provider process evaluates.
      const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
      const moduleFile = path.join(dir, "provider.js");
      fs.writeFileSync(moduleFile, serialized.text);
      const driver = `
        const provider = require(${JSON.stringify(moduleFile)}).handler();
        (async () => {
          const created = await provider.create({ step: "build" });
          const diff = await provider.diff("id", {}, {});
          process.stdout.write(JSON.stringify({ created, diff, pid: process.pid }));
        })();`;
      const out = JSON.parse(execFileSync(process.execPath, ["-e", driver], { encoding: "utf8" })) as {
        created: { id: string; outs: { result: { ran: number } } };
        diff: { replaces: string[] };
        pid: number;
      };
      expect(out.created.id).toBe("id-build");
      expect(out.created.outs.result.ran).toBe(out.pid);
      expect(out.diff.replaces).toEqual(["triggers"]);
      // The closure carries the runner path and nothing of this process's modules.
      expect(serialized.text).toContain(fakeRunner);
      expect(serialized.text).not.toContain("ssh2");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("points at the compiled runner inside the package", () => {
    expect(compiledRunnerPath("/pkg")).toBe("/pkg/dist/components/pulumi/step-runner.js");
  });
});
