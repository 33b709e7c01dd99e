import type * as pulumi from "@pulumi/pulumi";
import type { SourceSpec } from "../topology/model";
import { stageControllerSource, type StagedSource } from "./controller-source";
import type { NetmapHost } from "./netmap-host";
import type { RemoteStep } from "./remote-step";
import { hostSourcePath, uploadSource } from "./source-upload";

export interface SourceArgsContext {
  /** Resource name prefix of the component asking. */
  name: string;
  /** "netmap" or "qemu". */
  what: string;
  host: NetmapHost;
  keepCache: boolean;
  /** The controller source already staged (Testbed stages once for every host). */
  staged?: StagedSource;
  /** The step the upload follows (the host's prepare, or its scripts). */
  after?: RemoteStep;
  opts: pulumi.CustomResourceOptions;
}

/**
 * The `--git/--ref` or `--path` arguments of fetch.sh and qemu/build.sh for a source, and the
 * steps they stand on: a controller source is uploaded into the host's source cache first.
 */
export function sourceArgsFor(
  source: SourceSpec,
  context: SourceArgsContext,
): { args: string[]; builtOn: RemoteStep[] } {
  switch (source.kind) {
    case "git":
      return { args: ["--git", source.git, "--ref", source.ref], builtOn: [] };
    case "hostPath":
      return { args: ["--path", source.path], builtOn: [] };
    case "path": {
      const staged = context.staged ?? stageControllerSource(source.path);
      const upload = uploadSource(
        `${context.name}-source-upload`,
        { host: context.host, staged, what: context.what, keepCache: context.keepCache },
        { ...context.opts, dependsOn: context.after ? [context.after] : [] },
      );
      return { args: ["--path", hostSourcePath(staged)], builtOn: [upload] };
    }
  }
}
