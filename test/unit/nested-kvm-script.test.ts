/**
 * kernel-builds/lab/nested-kvm.sh: the quick "can lab hosts nest KVM here?" that `npm run demo`
 * and the real check read before deciding to start VMs. Its answer is compared with this machine's
 * own facts, read here without the script, and its override with the one detect-accel.sh takes.
 */
import { constants, accessSync, readFileSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";

const SCRIPT = path.resolve(__dirname, "..", "..", "kernel-builds", "lab", "nested-kvm.sh");

function probe(accel?: string): { status: number | null; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NMTB_ACCEL;
  if (accel !== undefined) env.NMTB_ACCEL = accel;
  const result = spawnSync("bash", [SCRIPT], { env, encoding: "utf8" });
  return { status: result.status, stderr: result.stderr };
}

function kvmOpenable(): boolean {
  try {
    accessSync("/dev/kvm", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

describe("nested-kvm.sh", () => {
  it("says yes exactly when the CPU has vmx or svm and /dev/kvm can be opened", () => {
    const hardware = /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
    const { status, stderr } = probe();
    expect(status).toBe(hardware && kvmOpenable() ? 0 : 1);
    // A "no" always says why, since the demo prints it.
    if (status === 1) expect(stderr).toMatch(/vmx or svm|\/dev\/kvm/);
  });

  it("takes NMTB_ACCEL as an answer, as detect-accel.sh does, and refuses other values", () => {
    expect(probe("kvm").status).toBe(0);
    expect(probe("tcg")).toEqual({ status: 1, stderr: "NMTB_ACCEL=tcg: lab hosts run under TCG\n" });
    const odd = probe("xen");
    expect(odd.status).toBe(2);
    expect(odd.stderr).toContain("NMTB_ACCEL must be kvm or tcg, not xen");
  });
});
