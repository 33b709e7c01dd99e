import * as pulumi from "@pulumi/pulumi";
import type { ImageSpec } from "../topology/model";
import { scriptCommand } from "./host-script";
import type { LabRecipeImage } from "./lab-recipe-image";
import type { NetmapHost } from "./netmap-host";
import { RemoteStep } from "./remote-step";
import { stringField } from "./step-result";

export interface GuestImageArgs {
  host: NetmapHost;
  /** The topology's `images:` entry: a URL with its digest, or a recipe. */
  image: ImageSpec;
  /** The controller's build of a recipe image (required when `image` is one). */
  recipe?: LabRecipeImage;
}

/**
 * A guest disk image in the host's cache, never written to (VMs make qcow2 overlays on it).
 * A published image is downloaded by the host and verified against its digest; a recipe image is
 * uploaded from the controller over SFTP with its kernel and initrd, checked by its sha256.
 * A mismatch keeps nothing.
 */
export class GuestImage extends pulumi.ComponentResource {
  /** Path of the verified image on the host. */
  public readonly path: pulumi.Output<string>;
  /** A recipe image's kernel and initrd on the host, which QEMU boots; undefined for a published image. */
  public readonly boot?: pulumi.Output<{ kernel: string; initrd: string }>;
  /** The step that puts the image on the host: VMs stand on it. */
  public readonly fetch: RemoteStep;
  /**
   * A recipe image's netmap build on the host (netmap/export.sh's archive, for the image's kernel),
   * which each VM's seed carries into the guest; undefined for a published image.
   */
  public readonly netmap?: { archivePath: pulumi.Output<string>; upload: RemoteStep };

  constructor(name: string, args: GuestImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:GuestImage", name, {}, opts);
    const { image } = args;
    if (image.kind === "url") {
      this.fetch = new RemoteStep(
        `${name}-fetch`,
        {
          kind: "GuestImageFetch",
          connection: args.host.connection,
          step: `image-${image.name}`,
          create: scriptCommand("image/fetch-image.sh", [
            "--url",
            image.url,
            `--${image.digest.algorithm}`,
            image.digest.hex,
          ]),
          // The hex alone: it already tells the algorithms apart (64 or 128 digits), and adding the
          // algorithm would replace every deployed sha256 image, and the VMs built on it, for nothing.
          triggers: [image.digest.hex],
          builtOn: [args.host.scripts],
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
      this.path = this.fetch.result.apply((result) => String(result.path ?? ""));
    } else {
      if (!args.recipe)
        throw new Error(`${name}: image ${image.name} is built from a recipe: pass its LabRecipeImage`);
      const archive = args.recipe.archive;
      const keyArgs = archive.apply((file) => ["--sha256", file.sha256]);
      this.fetch = new RemoteStep(
        `${name}-store`,
        {
          kind: "GuestImageStore",
          connection: args.host.connection,
          step: `image-${image.name}`,
          create: keyArgs.apply((key) =>
            scriptCommand("image/store-image.sh", ["store", ...key, "--from", uploadPath(key[1])], {
              timeoutSec: 1800,
            }),
          ),
          read: keyArgs.apply((key) => scriptCommand("image/store-image.sh", ["status", ...key])),
          // Another build of the recipe is another image: its VMs are re-created on it.
          triggers: [archive.apply((file) => file.sha256)],
          builtOn: [args.host.scripts],
          upload: archive.apply((file) => ({
            localPath: file.path,
            sha256: file.sha256,
            remotePath: uploadPath(file.sha256),
            skipIf: scriptCommand("image/store-image.sh", ["check", "--sha256", file.sha256]),
          })),
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
      const step = `image-${image.name}`;
      this.path = this.fetch.result.apply((result) => stringField(result, "disk", step));
      this.boot = this.fetch.result.apply((result) => ({
        kernel: stringField(result, "kernel", step),
        initrd: stringField(result, "initrd", step),
      }));
      this.netmap = uploadGuestNetmap(`${name}-netmap`, args.host, image.name, args.recipe, {
        parent: this,
        dependsOn: opts?.dependsOn,
      });
    }
    this.registerOutputs({ path: this.path });
  }
}

/**
 * The guests' netmap archive into the host's content-addressed cache (host/source-cache.sh, the
 * one controller sources use), where the VMs' seed steps pick it up.
 */
function uploadGuestNetmap(
  name: string,
  host: NetmapHost,
  image: string,
  recipe: LabRecipeImage,
  opts: pulumi.CustomResourceOptions,
): { archivePath: pulumi.Output<string>; upload: RemoteStep } {
  const file = recipe.netmapArchive;
  const keyArgs = file.apply((f) => ["--sha256", f.sha256, "--ext", "tgz"]);
  const remotePath = file.apply((f) => `/tmp/nmtb-guest-netmap-${f.sha256}.tgz`);
  const upload = new RemoteStep(
    name,
    {
      kind: "GuestNetmapUpload",
      connection: host.connection,
      step: `image-${image}-netmap`,
      create: pulumi
        .all([keyArgs, remotePath])
        .apply(([key, from]) => scriptCommand("host/source-cache.sh", ["store", ...key, "--from", from])),
      read: keyArgs.apply((key) => scriptCommand("host/source-cache.sh", ["status", ...key])),
      triggers: [file.apply((f) => f.sha256)],
      builtOn: [host.scripts],
      upload: pulumi.all([file, keyArgs, remotePath]).apply(([f, key, to]) => ({
        localPath: f.path,
        sha256: f.sha256,
        remotePath: to,
        skipIf: scriptCommand("host/source-cache.sh", ["check", ...key]),
      })),
    },
    opts,
  );
  return { archivePath: upload.result.apply((result) => stringField(result, "path", name)), upload };
}

/** Beside /tmp's other files, readable only by the SSH user; store removes it whatever happens. */
function uploadPath(sha256: string): string {
  return `/tmp/nmtb-image-${sha256}.tar`;
}
