/**
 * A stand-in for running remote steps, for wiring tests: each step "prints" what its host script
 * would (the fields the components read back), after a short delay so creation order shows.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { utils as sshUtils } from "ssh2";

/** A real key pair, as a lab host's generated client key would be. */
export const FAKE_KEY_PAIR = sshUtils.generateKeyPairSync("ed25519");
const fakeLabKeyPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-fake-lab-")), "id_ed25519");
fs.writeFileSync(fakeLabKeyPath, FAKE_KEY_PAIR.private, { mode: 0o600 });

export const FAKE_KERNEL_RELEASE = "6.1.0-50-amd64";
export const FAKE_NETMAP_COMMIT = "89607e14";

const RESULTS: Readonly<Record<string, Record<string, unknown>>> = {
  "netmap-prepare": { kernelRelease: FAKE_KERNEL_RELEASE },
  "netmap-fetch": { sourceDir: "/var/cache/netmap-testbed/src/abc", commit: FAKE_NETMAP_COMMIT },
  "netmap-build": { buildDir: "/var/cache/netmap-testbed/build/k", built: true },
};

export const FAKE_GUEST_IMAGE_SHA256 = "a".repeat(64);
export const FAKE_NETMAP_ARCHIVE_SHA256 = "b".repeat(64);

/** What image/fetch-image.sh, image/store-image.sh and host/source-cache.sh print (fields read back). */
const IMAGE_RESULT = {
  path: "/var/cache/img",
  disk: "/var/cache/img/disk.qcow2",
  kernel: "/var/cache/img/vmlinuz",
  initrd: "/var/cache/img/initrd.img",
};

/** Every step kind's type starts with this (e.g. `…netmap-testbed:NetmapBuild`). */
export const STEP_TYPE_PREFIX = "pulumi-nodejs:dynamic/netmap-testbed:";

export async function fakeStepResource(
  args: pulumi.runtime.MockResourceArgs,
): Promise<pulumi.runtime.MockResourceResult> {
  const instance = `${args.name}-instance`;
  if (args.type.startsWith(`${STEP_TYPE_PREFIX}Lab`)) {
    // What kernel-builds/lab/build-image.sh and boot-host.sh print.
    const result = {
      dir: "/img",
      disk: "/img/disk.img",
      kernelRelease: FAKE_KERNEL_RELEASE,
      accel: "tcg",
      sshPort: 2222,
      hostKey: "ssh-ed25519 AAAA",
      privateKeyPath: fakeLabKeyPath,
    };
    return { id: `${args.name}-id`, state: { ...args.inputs, result, instance } };
  }
  if (args.type === `${STEP_TYPE_PREFIX}NativeBuild`) {
    // What kernel-builds/lab/native-build.sh prints (the fields the components read back).
    const result = {
      sourceDir: "/var/cache/netmap-testbed/src/tarball-abc",
      archive: "/a/k.tgz",
      sha256: FAKE_NETMAP_ARCHIVE_SHA256,
    };
    return { id: `${args.name}-id`, state: { ...args.inputs, result, instance } };
  }
  if (args.type === `${STEP_TYPE_PREFIX}GuestImagePack`) {
    // What kernel-builds/lab/pack-guest-image.sh prints.
    const result = {
      archive: "/img/guest.tar",
      sha256: FAKE_GUEST_IMAGE_SHA256,
      kernelRelease: FAKE_KERNEL_RELEASE,
    };
    return { id: `${args.name}-id`, state: { ...args.inputs, result, instance } };
  }
  if (!args.type.startsWith(STEP_TYPE_PREFIX)) return { id: `${args.name}-id`, state: args.inputs };
  await new Promise((resolve) => setTimeout(resolve, 5));
  const step = String(args.inputs.step);
  const result = RESULTS[step] ?? (step.startsWith("image-") ? IMAGE_RESULT : {});
  return { id: `${args.name}-id`, state: { ...args.inputs, result, instance } };
}
