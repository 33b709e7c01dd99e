/**
 * The LocalLabHost component boots a real lab host through the repo's own scripts: the test
 * monitor runs each local step the component declares (build-image.sh, boot-host.sh) through the
 * very handlers the dynamic provider loads, then the project's HostSession logs in with the
 * outputs (pinned host key, secret client key), and the step's delete (stop-host.sh) removes it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HostSession } from "../../components/host";
import { LocalLabHost } from "../../components/pulumi";
import {
  handlers,
  type LocalStepInputs,
  type LocalStepOutputs,
} from "../../components/pulumi/local-step-runner";
import { runMockedProgram, unwrapSecrets } from "../support/pulumi-harness";

const LOCAL_STEP = /^pulumi-nodejs:dynamic\/netmap-testbed:Lab/;

function sh(command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "/bin/sh",
      ["-c", command],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command}\nfailed: ${error.message}\n${stderr.slice(-4000)}`));
        else resolve(stdout);
      },
    );
  });
}

interface LabOutputs {
  address: string;
  port: number;
  hostKey: string;
  privateKey: string;
  accel: string;
  kernelRelease: string;
}

describe("LocalLabHost boots a Debian host through the repo's scripts and removes it on destroy", () => {
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-lab-it-"));
  const deletes: LocalStepOutputs[] = [];
  let outputs: LabOutputs | undefined;
  let privateKeyWasSecret = false;

  afterAll(async () => {
    for (const step of deletes.reverse()) await handlers.delete(step.step, step).catch(() => undefined);
    fs.rmSync(stateRoot, { recursive: true, force: true });
  }, 180_000);

  it(
    "creates: the outputs log in with the pinned host key",
    async () => {
      let captured: Promise<LabOutputs> | undefined;
      await runMockedProgram(
        () => {
          const lab = new LocalLabHost("nmtb-lab-it", {
            // One GiB over the base image's 4: the overlay and the root file system grow to it.
            lab: { kind: "localLab", cpus: 2, memoryMiB: 2048, diskGiB: 5 },
            stateRoot,
          });
          captured = new Promise((resolve) => {
            pulumi
              .all([lab.address, lab.port, lab.hostKey, lab.privateKey, lab.accel, lab.kernelRelease])
              .apply(([address, port, hostKey, privateKey, accel, kernelRelease]) =>
                resolve({ address, port, hostKey, privateKey, accel, kernelRelease }),
              );
          });
          void pulumi.isSecret(lab.privateKey).then((secret) => (privateKeyWasSecret = secret));
        },
        async (args) => {
          if (!LOCAL_STEP.test(args.type)) return { id: `${args.name}-id`, state: args.inputs };
          const { id, outs } = await handlers.create(unwrapSecrets(args.inputs) as LocalStepInputs);
          if (outs.delete) deletes.push(outs);
          return { id, state: outs };
        },
      );
      outputs = await captured;
      expect(privateKeyWasSecret).toBe(true);
      expect(outputs?.address).toBe("127.0.0.1");
      expect(outputs?.hostKey).toMatch(/^ssh-ed25519 /);
      expect(["kvm", "tcg"]).toContain(outputs?.accel);

      const session = new HostSession({
        name: "nmtb-lab-it",
        address: outputs!.address,
        port: outputs!.port,
        hostKey: outputs!.hostKey,
        credentials: { privateKey: outputs!.privateKey },
      });
      try {
        const result = await session.runChecked("uname", ["uname", "-r"]);
        expect(result.stdout.trim()).toBe(outputs!.kernelRelease);
        // localLab.disk: the root file system spans the whole 5 GiB disk.
        const size = await session.runChecked("df", ["df", "--output=size", "-B1M", "/"]);
        expect(Number(size.stdout.trim().split("\n").pop())).toBeGreaterThan(4.5 * 1024);
      } finally {
        await session.close();
      }
    },
    20 * 60_000,
  );

  it("destroys: the VM stops and its state is gone", async () => {
    expect(deletes).toHaveLength(1);
    const boot = deletes.pop()!;
    await handlers.delete(boot.step, boot);
    expect(fs.existsSync(path.join(stateRoot, "nmtb-lab-it"))).toBe(false);
    // QEMU processes whose command line names this host's state dir (the probe itself excluded).
    const qemus = (await sh("ps -eo args", 10_000))
      .split("\n")
      .filter((line) => line.includes("qemu-system") && line.includes(path.join(stateRoot, "nmtb-lab-it")));
    expect(qemus).toEqual([]);
  }, 180_000);
});
