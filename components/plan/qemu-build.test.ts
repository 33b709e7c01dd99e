import { planQemuBuild } from "./qemu-build";
import type { SourceSpec } from "../topology/model";

const netmap: SourceSpec = { kind: "git", git: "https://github.com/luigirizzo/netmap.git", ref: "89607e14" };
const controller = (path: string, sha256: string): SourceSpec => ({ kind: "path", path, sha256 });

describe("planQemuBuild", () => {
  // The prefix is the config key's and build.sh finds a prefix "already built" by that key, so a
  // changed source that left the key alone would never be compiled (the defect this pins).
  it("keys a controller source by its digest: other files rebuild, another location does not", () => {
    const one = planQemuBuild(controller("/home/a/qemu", "a".repeat(64)), netmap);
    expect(planQemuBuild(controller("/srv/checkout-2/qemu", "a".repeat(64)), netmap).configKey).toBe(
      one.configKey,
    );
    const edited = planQemuBuild(controller("/home/a/qemu", "b".repeat(64)), netmap);
    expect(edited.configKey).not.toBe(one.configKey);
    expect(edited.prefix).not.toBe(one.prefix);
  });

  it("rebuilds QEMU when the netmap headers' controller source changes", () => {
    const qemu: SourceSpec = {
      kind: "git",
      git: "https://github.com/netmap-unipi/qemu.git",
      ref: "292a8b61",
    };
    expect(planQemuBuild(qemu, controller("/n", "a".repeat(64))).configKey).not.toBe(
      planQemuBuild(qemu, controller("/n", "b".repeat(64))).configKey,
    );
  });

  it("keys a pinned git source by its commit", () => {
    const at = (ref: string) =>
      planQemuBuild({ kind: "git", git: "https://github.com/netmap-unipi/qemu.git", ref }, netmap).configKey;
    expect(at("292a8b6145726f8d4de0b18340fb4866ea4e49ff")).not.toBe(
      at("0000000145726f8d4de0b18340fb4866ea4e49ff"),
    );
  });
});
