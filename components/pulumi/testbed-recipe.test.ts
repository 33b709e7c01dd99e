/**
 * Wiring of VMs on a recipe image (`images: { lab: { recipe: lab } }`) on remote hosts: the
 * controller builds the image once, packs it, and builds the guests' netmap in the image's root
 * without NIC drivers; every host receives both over SFTP, and each VM's seed carries that netmap
 * into its guest, which boots the image's kernel. The scripts' own behaviour is tested on real
 * hosts (guest-seed.test.ts, native-build.test.ts) and in vm-script.test.ts.
 */
import {
  resourceNamed,
  runMockedProgram,
  unwrapSecrets,
  urnName,
  type RegisteredResource,
} from "../../test/support/pulumi-harness";
import {
  FAKE_GUEST_IMAGE_SHA256,
  FAKE_KERNEL_RELEASE,
  FAKE_NETMAP_ARCHIVE_SHA256,
  fakeStepResource,
} from "../../test/support/fake-steps";
import { paperModel } from "../../test/support/plan-test-model";
import { Testbed } from "./testbed";

interface StepInputs {
  create: { argv: string[] };
  triggers: string[];
  upload?: { localPath: string; sha256: string; remotePath: string; skipIf: { argv: string[] } };
}

const inputs = (resources: readonly RegisteredResource[], name: string): StepInputs =>
  unwrapSecrets(resourceNamed(resources, name).inputs) as unknown as StepInputs;
const builtOn = (resources: readonly RegisteredResource[], name: string): string[] =>
  (resourceNamed(resources, name).propertyDependencies.builtOn ?? []).map(urnName);
/** Steps of a type that belong to the recipe image (the paper's lab host h3 has its own image). */
const recipeSteps = (resources: readonly RegisteredResource[], type: string): string[] =>
  resources.filter((r) => r.type.endsWith(type) && r.name.startsWith("tb-image-")).map((r) => r.name);

describe("Testbed with VMs on a recipe image", () => {
  let resources: RegisteredResource[];
  const paper = paperModel();
  const model = {
    ...paper,
    netmap: { ...paper.netmap, params: { ptnet_vnet_hdr: 0 } },
    images: [{ kind: "recipe" as const, name: "lab", recipe: "lab" as const, os: "linux" as const }],
    vms: paper.vms.map((vm) => ({ ...vm, image: "lab" })),
  };
  const hostsWithVms = [...new Set(model.vms.map((vm) => vm.host))];

  beforeAll(async () => {
    resources = await runMockedProgram(() => {
      new Testbed("tb", { topology: model, credentials: { guestAuthorizedKey: "ssh-ed25519 AAAA guest" } });
    }, fakeStepResource);
  });

  it("builds and packs the image, and the guests' netmap, once on this machine for every host", () => {
    expect(recipeSteps(resources, ":LabImage")).toEqual(["tb-image-lab-build"]);
    expect(recipeSteps(resources, ":GuestImagePack")).toEqual(["tb-image-lab-pack"]);
    expect(inputs(resources, "tb-image-lab-pack").create.argv).toEqual([
      "bash",
      "kernel-builds/lab/pack-guest-image.sh",
      "--image-dir",
      "/img",
    ]);
    const native = inputs(resources, "tb-image-lab-native-netmap").create.argv;
    expect(native).toEqual(
      expect.arrayContaining(["--disk", "/img/disk.img", "--kernel-release", FAKE_KERNEL_RELEASE]),
    );
    // The guests' NICs are ptnet, whose driver is in netmap.ko: no NIC driver is built for them.
    expect(native).not.toContain("--driver");
    expect(native.slice(native.indexOf("--") + 1, native.lastIndexOf("--"))).toEqual([
      "--git",
      paper.netmap.source.kind === "git" ? paper.netmap.source.git : "",
      "--ref",
      paper.netmap.source.kind === "git" ? paper.netmap.source.ref : "",
    ]);
  });

  it.each(hostsWithVms)("uploads the image and the guests' netmap to %s, keyed by their digests", (host) => {
    const store = inputs(resources, `tb-${host}-image-lab-store`);
    expect(store.upload).toMatchObject({ localPath: "/img/guest.tar", sha256: FAKE_GUEST_IMAGE_SHA256 });
    expect(store.triggers).toEqual([FAKE_GUEST_IMAGE_SHA256]);
    expect(store.create.argv).toEqual(
      expect.arrayContaining([
        "store",
        "--sha256",
        FAKE_GUEST_IMAGE_SHA256,
        "--from",
        store.upload?.remotePath,
      ]),
    );
    expect(store.upload?.skipIf.argv).toEqual(
      expect.arrayContaining(["check", "--sha256", FAKE_GUEST_IMAGE_SHA256]),
    );
    const netmap = inputs(resources, `tb-${host}-image-lab-netmap`);
    expect(netmap.upload).toMatchObject({ localPath: "/a/k.tgz", sha256: FAKE_NETMAP_ARCHIVE_SHA256 });
    expect(netmap.create.argv).toEqual(
      expect.arrayContaining(["store", "--sha256", FAKE_NETMAP_ARCHIVE_SHA256, "--ext", "tgz"]),
    );
  });

  it("seeds each guest in the image's format with that netmap and the topology's parameters", () => {
    for (const vm of model.vms) {
      const seed = inputs(resources, `tb-${vm.host}-${vm.name}-seed`).create.argv;
      expect(seed).toEqual(
        expect.arrayContaining([
          "--format",
          "lab",
          "--netmap-archive",
          "/var/cache/img",
          "--netmap-param",
          "ptnet_vnet_hdr=0",
        ]),
      );
      expect(seed).not.toContain("--netmap-source-git");
    }
  });

  it("boots each VM on the image's kernel and initrd, after the image and its netmap are on the host", () => {
    for (const vm of model.vms) {
      const name = `tb-${vm.host}-${vm.name}-vm`;
      const argv = inputs(resources, name).create.argv;
      const separator = argv.indexOf("--");
      expect(argv.slice(0, separator)).toEqual(
        expect.arrayContaining([
          "--kernel",
          "/var/cache/img/vmlinuz",
          "--initrd",
          "/var/cache/img/initrd.img",
        ]),
      );
      expect(argv.slice(separator)).toContain("-kernel");
      expect(builtOn(resources, name)).toEqual(
        expect.arrayContaining([`tb-${vm.host}-image-lab-store`, `tb-${vm.host}-image-lab-netmap`]),
      );
    }
  });
});
