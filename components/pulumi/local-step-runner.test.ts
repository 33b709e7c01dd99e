import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { handlers, resolvePackageFiles, type LocalStepInputs } from "./local-step-runner";

describe("local steps", () => {
  it("keep the package's scripts relative in the state and resolve them in the package that runs", () => {
    expect(
      resolvePackageFiles(["bash", "kernel-builds/lab/stop-host.sh", "--state-dir", "/x"], "/checkout"),
    ).toEqual(["bash", "/checkout/kernel-builds/lab/stop-host.sh", "--state-dir", "/x"]);
  });

  it("create runs the command and keeps its JSON; a failure names the step and ends with its output", async () => {
    const inputs: LocalStepInputs = {
      step: "lab1-boot",
      create: { argv: ["bash", "-c", "echo progress >&2; echo '{\"sshPort\":2222}'"] },
      triggers: [],
      builtOn: [],
    };
    const { id, outs } = await handlers.create(inputs);
    expect(id).toBe("lab1-boot");
    expect(outs.result).toEqual({ sshPort: 2222 });
    const failing = { ...inputs, create: { argv: ["bash", "-c", "echo 'no KVM, no TCG' >&2; exit 3"] } };
    await expect(handlers.create(failing)).rejects.toThrow(
      /controller step lab1-boot failed[\s\S]*no KVM, no TCG$/,
    );
  });

  it("a changed command re-creates the thing; refresh keeps drift and drops only what is gone", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-local-step-"));
    try {
      const status = path.join(dir, "status.json");
      const inputs: LocalStepInputs = {
        step: "lab1-boot",
        create: { argv: ["echo", "{}"] },
        read: { argv: ["cat", status] },
        triggers: [],
        builtOn: [],
      };
      const { outs } = await handlers.create(inputs);
      const changed = { ...inputs, create: { argv: ["echo", '{"memory":4096}'] } };
      expect((await handlers.diff("id", outs, changed)).replaces).toEqual(["create"]);
      fs.writeFileSync(status, '{"present":false}');
      const drifted = await handlers.read("id", outs);
      expect(drifted.props?.drift).toEqual({ present: false });
      expect((await handlers.diff("id", drifted.props!, inputs)).changes).toBe(true);
      fs.writeFileSync(status, '{"present":false,"gone":true}');
      expect(await handlers.read("id", outs)).toEqual({});
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
