import type * as pulumi from "@pulumi/pulumi";
import type { StagedSource } from "./controller-source";
import { scriptCommand } from "./host-script";
import type { NetmapHost } from "./netmap-host";
import { RemoteStep } from "./remote-step";

/** Where source-cache.sh keeps an uploaded archive (its NMTB_CACHE_DIR default). */
export function hostSourcePath(staged: StagedSource): string {
  return `/var/cache/netmap-testbed/sources/${staged.sha256}.${staged.ext}`;
}

export interface SourceUploadArgs {
  host: NetmapHost;
  /** The archive on the controller (stageControllerSource). */
  staged: StagedSource;
  /** "netmap" or "qemu": names the step. */
  what: string;
  /** Keep the archive in the host's cache on destroy, so a redeploy uploads nothing. */
  keepCache: boolean;
}

/**
 * A controller source on one host: uploaded over SFTP unless the host's source cache has those
 * bytes already, then checked and stored by source-cache.sh, at `hostSourcePath`. Keyed by the
 * digest: other bytes are another step (and the build steps keyed by what they fetch follow).
 */
export function uploadSource(
  name: string,
  args: SourceUploadArgs,
  opts: pulumi.CustomResourceOptions,
): RemoteStep {
  const { staged } = args;
  const keyArgs = ["--sha256", staged.sha256, "--ext", staged.ext];
  // Beside /tmp's other files, readable only by the SSH user; store removes it whatever happens.
  const remotePath = `/tmp/nmtb-source-${staged.sha256}.${staged.ext}`;
  return new RemoteStep(
    name,
    {
      kind: "SourceUpload",
      connection: args.host.connection,
      step: `${args.what}-source-upload`,
      create: scriptCommand("host/source-cache.sh", ["store", ...keyArgs, "--from", remotePath]),
      read: scriptCommand("host/source-cache.sh", ["status", ...keyArgs]),
      ...(args.keepCache ? {} : { delete: scriptCommand("host/source-cache.sh", ["remove", ...keyArgs]) }),
      triggers: [staged.sha256],
      builtOn: [args.host.scripts],
      upload: {
        localPath: staged.archive,
        sha256: staged.sha256,
        remotePath,
        skipIf: scriptCommand("host/source-cache.sh", ["check", ...keyArgs]),
      },
    },
    opts,
  );
}
