import { readFileSync } from "node:fs";
import path from "node:path";
import { paperModel } from "../../test/support/plan-test-model";
import { planTestbed } from "./plan-testbed";
import { LAB_RECIPE_CMDLINE } from "./vm";

/** The paper's model with every VM on a recipe image. */
function recipePlan() {
  const paper = paperModel();
  return planTestbed({
    ...paper,
    images: [{ kind: "recipe", name: "lab", recipe: "lab", os: "linux" }],
    vms: paper.vms.map((vm) => ({ ...vm, image: "lab" })),
  });
}

/** The values after each occurrence of FLAG. */
function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]] : []));
}

describe("a VM on a recipe image", () => {
  const vm = recipePlan().hosts.flatMap((host) => host.vms)[0];

  it("boots the image's kernel and initrd from its own directory, with the recipe's command line", () => {
    expect(valuesOf(vm.qemuArgs, "-kernel")).toEqual([vm.paths.kernel]);
    expect(valuesOf(vm.qemuArgs, "-initrd")).toEqual([vm.paths.initrd]);
    expect(valuesOf(vm.qemuArgs, "-append")).toEqual([LAB_RECIPE_CMDLINE]);
    expect(path.dirname(vm.paths.kernel)).toBe(vm.paths.dir);
  });

  it("has its root on the first virtio disk and its seed on a disk with serial nmtb-seed", () => {
    expect(valuesOf(vm.qemuArgs, "-drive")).toEqual([
      `file=${vm.paths.overlay},if=none,id=root,format=qcow2`,
      `file=${vm.paths.seed},if=none,id=seed,format=raw,readonly=on`,
    ]);
    // Both disks are -device in this order (an `if=virtio` drive would come after every -device
    // and so after the seed: the seed would be /dev/vda).
    expect(valuesOf(vm.qemuArgs, "-device").filter((d) => d.startsWith("virtio-blk-pci"))).toEqual([
      "virtio-blk-pci,drive=root",
      "virtio-blk-pci,drive=seed,serial=nmtb-seed",
    ]);
    // eth0 is the management NIC the image's networkd configures: the first NIC in the argv.
    expect(valuesOf(vm.qemuArgs, "-device").find((d) => /net|ptnet/.test(d))).toBe(
      "virtio-net-pci,netdev=mgmt",
    );
  });

  it("uses the command line the lab recipe's image is built for (kernel-builds/lab/build-image.sh)", () => {
    const script = readFileSync(
      path.join(__dirname, "..", "..", "kernel-builds", "lab", "build-image.sh"),
      "utf8",
    );
    expect(/^cmdline="([^"]*)"$/m.exec(script)?.[1]).toBe(LAB_RECIPE_CMDLINE);
  });

  it("a published image's VM keeps its disk-booted argv (no kernel, cloud-init seed)", () => {
    const published = planTestbed(paperModel()).hosts.flatMap((host) => host.vms)[0];
    expect(published.qemuArgs).not.toContain("-kernel");
    expect(valuesOf(published.qemuArgs, "-drive")).toContain(
      `file=${published.paths.seed},if=virtio,format=raw,readonly=on`,
    );
  });
});
