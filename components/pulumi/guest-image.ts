import * as pulumi from "@pulumi/pulumi";
import type { ImageSpec } from "../topology/model";
import { scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import { RemoteStep } from "./remote-step";

export interface GuestImageArgs {
  host: NetmapHost;
  /** URL, digest (sha256 or sha512) and OS of the image (the topology's `images:` entry). */
  image: ImageSpec;
}

/**
 * A guest disk image downloaded once into the host's cache and verified against its digest
 * (a mismatch keeps nothing). VMs make qcow2 overlays on it, so it is never written to.
 */
export class GuestImage extends pulumi.ComponentResource {
  /** Path of the verified image on the host. */
  public readonly path: pulumi.Output<string>;
  public readonly fetch: RemoteStep;

  constructor(name: string, args: GuestImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("netmap-testbed:index:GuestImage", name, {}, opts);
    this.fetch = new RemoteStep(
      `${name}-fetch`,
      {
        kind: "GuestImageFetch",
        connection: args.host.connection,
        step: `image-${args.image.name}`,
        create: scriptCommand("image/fetch-image.sh", [
          "--url",
          args.image.url,
          `--${args.image.digest.algorithm}`,
          args.image.digest.hex,
        ]),
        // The hex alone: it already tells the algorithms apart (64 or 128 digits), and adding the
        // algorithm would replace every deployed sha256 image, and the VMs built on it, for nothing.
        triggers: [args.image.digest.hex],
        builtOn: [args.host.scripts],
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.path = this.fetch.result.apply((result) => String(result.path ?? ""));
    this.registerOutputs({ path: this.path });
  }
}
