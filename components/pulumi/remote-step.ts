import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { packageRoot } from "./package-root";
import { runtimeProvider } from "./provider-runtime";
import { HOST_SCRIPTS_DIR } from "./script-bundle";
import type {
  RemoteStepInputs,
  RemoteStepOutputs,
  StepCommand,
  StepConnection,
  StepShare,
  StepUpload,
} from "./step-types";
import { presentResult } from "./step-result";

/**
 * Step kinds, each its own resource type (`pulumi-nodejs:dynamic/netmap-testbed:<Kind>`: the
 * package part of a dynamic resource's type must be the dynamic provider's).
 */
export type RemoteStepKind =
  | "HostScripts"
  | "SourceUpload"
  | "NetmapPrepare"
  | "NetmapFetch"
  | "NetmapBuild"
  | "NetmapInstall"
  | "NetmapLoad"
  | "NetmapPersist"
  | "Hugepages"
  | "ValePort"
  | "ValeUplink"
  | "QemuBuild"
  | "GuestImageFetch"
  | "GuestImageStore"
  | "GuestNetmapUpload"
  | "VmSeed"
  | "Vm";

type InputCommand = pulumi.Input<StepCommand>;

export interface RemoteStepArgs {
  /** The resource type of this step. */
  kind: RemoteStepKind;
  /** How to reach the host; pass credentials as secrets (`pulumi.secret`). */
  connection: pulumi.Input<StepConnection>;
  /** Short step name used in messages, e.g. "netmap-build". */
  step: string;
  /** Run on create, and again (idempotently) when the command or its scripts change, or after drift. */
  create: InputCommand;
  /** Run on destroy and before a replacement; defaults to nothing. */
  delete?: InputCommand;
  /** Run on refresh to read the live state back; defaults to none (state is trusted). */
  read?: InputCommand;
  /** A change in any of these replaces the step (delete, then create). Defaults to []. */
  triggers?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The steps this one stands on: created after them, and replaced (deleted first) whenever one of
   * them is replaced. Defaults to none.
   */
  builtOn?: readonly RemoteStep[];
  /** Identical hosts' steps with the same key run create once and import the result (StepShare). */
  share?: pulumi.Input<StepShare>;
  /** A controller file sent to the host over SFTP before create runs (StepUpload). */
  upload?: pulumi.Input<StepUpload>;
}

const scriptsPrefix = `${HOST_SCRIPTS_DIR}/kernel-builds/`;

/**
 * Digest of the host scripts a step's commands run, and of the library every script sources: a
 * change to any of them re-runs the step's create.
 */
export function scriptsDigest(commands: readonly (StepCommand | undefined)[], root = packageRoot()): string {
  const scripts = new Set<string>();
  for (const command of commands) {
    for (const arg of command?.argv ?? []) {
      if (arg.startsWith(scriptsPrefix)) scripts.add(arg.slice(scriptsPrefix.length));
    }
  }
  if (scripts.size === 0) return "";
  const library = path.join(root, "kernel-builds", "lib");
  for (const file of fs.readdirSync(library)) scripts.add(`lib/${file}`);
  const hash = createHash("sha256");
  for (const script of [...scripts].sort()) {
    hash.update(`${script}\0`);
    hash.update(fs.readFileSync(path.join(root, "kernel-builds", script)));
  }
  return hash.digest("hex").slice(0, 16);
}

let provider: pulumi.dynamic.ResourceProvider | undefined;

/**
 * One idempotent host action (a script run over SSH with a pinned host key) as a Pulumi
 * resource. `result` is the JSON object the script printed; `instance` changes only when the
 * step is created anew, which is what steps built on it watch.
 */
export class RemoteStep extends pulumi.dynamic.Resource {
  declare public readonly result: pulumi.Output<Record<string, unknown>>;
  declare public readonly step: pulumi.Output<string>;
  declare public readonly instance: pulumi.Output<string>;
  /** What refresh found when the live state had drifted; undefined when it matched. */
  declare public readonly drift: pulumi.Output<Record<string, unknown> | undefined>;

  constructor(name: string, args: RemoteStepArgs, opts: pulumi.CustomResourceOptions = {}) {
    const builtOn = args.builtOn ?? [];
    const props: Record<keyof RemoteStepInputs | "result" | "instance" | "drift", unknown> = {
      connection: args.connection,
      step: args.step,
      create: args.create,
      delete: args.delete,
      read: args.read,
      triggers: args.triggers ?? [],
      builtOn: builtOn.map((step) => step.instance),
      scriptsDigest: pulumi
        .all([args.create, args.delete, args.read])
        .apply((commands) => scriptsDigest(commands)),
      share: args.share,
      upload: args.upload,
      result: undefined,
      instance: undefined,
      drift: undefined,
    };
    provider ??= runtimeProvider<RemoteStepInputs, RemoteStepOutputs>("remote-step-runner");
    super(
      provider,
      name,
      props,
      {
        ...opts,
        // Outputs carry the connection (delete needs it) and so the credentials: keep it secret.
        additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "connection"],
        deleteBeforeReplace: opts.deleteBeforeReplace ?? true,
      },
      "netmap-testbed",
      args.kind,
    );
    // Left out of an update before it existed, the step has no outputs: see NOT_CREATED.
    this.result = this.result.apply(presentResult);
  }
}
