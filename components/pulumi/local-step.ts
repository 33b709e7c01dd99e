import * as pulumi from "@pulumi/pulumi";
import type { LocalStepInputs, LocalStepOutputs } from "./local-step-runner";
import { runtimeProvider } from "./provider-runtime";
import { presentResult } from "./step-result";
import type { StepCommand } from "./step-types";

export type LocalStepKind = "LabImage" | "GuestImagePack" | "LabHost" | "NativeBuild";

export interface LocalStepArgs {
  /** The resource type of this step. */
  kind: LocalStepKind;
  /** Step name for messages. */
  step: string;
  /** Run on create; prints one JSON object on stdout. */
  create: pulumi.Input<StepCommand>;
  /** Run on destroy and before a replacement; defaults to nothing. */
  delete?: pulumi.Input<StepCommand>;
  /** Run on refresh; defaults to none (state is trusted). */
  read?: pulumi.Input<StepCommand>;
  /** A change in any of these replaces the step. Defaults to []. */
  triggers?: pulumi.Input<pulumi.Input<string>[]>;
  /** Steps this one stands on: created after them, replaced whenever one of them is. Defaults to none. */
  builtOn?: readonly LocalStep[];
}

let provider: pulumi.dynamic.ResourceProvider | undefined;

/** A command on the controller itself as a resource (the local lab's image and hosts). */
export class LocalStep extends pulumi.dynamic.Resource {
  declare public readonly result: pulumi.Output<Record<string, unknown>>;
  declare public readonly instance: pulumi.Output<string>;

  constructor(name: string, args: LocalStepArgs, opts: pulumi.CustomResourceOptions = {}) {
    const props: Record<keyof LocalStepInputs | "result" | "instance" | "drift", unknown> = {
      step: args.step,
      create: args.create,
      delete: args.delete,
      read: args.read,
      triggers: args.triggers ?? [],
      builtOn: (args.builtOn ?? []).map((step) => step.instance),
      result: undefined,
      instance: undefined,
      drift: undefined,
    };
    provider ??= runtimeProvider<LocalStepInputs, LocalStepOutputs>("local-step-runner");
    super(
      provider,
      name,
      props,
      { ...opts, deleteBeforeReplace: opts.deleteBeforeReplace ?? true },
      "netmap-testbed",
      args.kind,
    );
    // Left out of an update before it existed, the step has no outputs: see NOT_CREATED.
    this.result = this.result.apply(presentResult);
  }
}
