import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { packageRoot } from "./package-root";
import type {
  RemoteStepInputs,
  RemoteStepOutputs,
  StepCommand,
  StepConnection,
  StepShare,
} from "./step-types";

/**
 * The compiled step runner. Pulumi runs dynamic providers in a separate Node process from a
 * serialised closure, where TypeScript sources cannot be loaded; so the provider below captures
 * only this path and loads the compiled module there.
 */
export function compiledRunnerPath(root: string = packageRoot()): string {
  return path.join(root, "dist", "components", "pulumi", "step-runner.js");
}

type Runner = typeof import("./step-runner");

/**
 * Built per program run; the closures capture a string and nothing else, which is why they load
 * the runner with a plain `require` of that path.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export function stepProvider(runnerPath: string): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: RemoteStepInputs) {
      const runner: Runner = require(runnerPath);
      return runner.createStep(inputs);
    },
    async delete(_id: string, props: RemoteStepOutputs) {
      const runner: Runner = require(runnerPath);
      await runner.deleteStep(props);
    },
    async diff(_id: string, olds: RemoteStepOutputs, news: RemoteStepInputs) {
      const runner: Runner = require(runnerPath);
      return runner.diffStep(olds, news);
    },
    async update(_id: string, olds: RemoteStepOutputs, news: RemoteStepInputs) {
      const runner: Runner = require(runnerPath);
      return runner.updateStep(olds, news);
    },
    async read(id: string, props: RemoteStepOutputs) {
      const runner: Runner = require(runnerPath);
      return runner.readStep(id, props);
    },
  };
}

/* eslint-enable @typescript-eslint/no-require-imports */

let provider: pulumi.dynamic.ResourceProvider | undefined;

/**
 * The compiled runner must exist before a deployment starts, not fail in the provider process
 * halfway through one; `npm ci` builds it (the package's `prepare` script).
 */
export function assertRunnerBuilt(runnerPath: string = compiledRunnerPath()): void {
  if (!fs.existsSync(runnerPath)) {
    throw new Error(`netmap-testbed: ${runnerPath} is missing; run \`npm run build\` (npm ci does it)`);
  }
}

function defaultProvider(): pulumi.dynamic.ResourceProvider {
  provider ??= stepProvider(compiledRunnerPath());
  return provider;
}

type InputCommand = pulumi.Input<StepCommand>;

export interface RemoteStepArgs {
  /** How to reach the host; pass credentials as secrets (`pulumi.secret`). */
  connection: pulumi.Input<StepConnection>;
  /** Short step name used in messages, e.g. "netmap-build". */
  step: string;
  /** Run on create, and again (idempotently) when the command changes. */
  create: InputCommand;
  /** Run on destroy and before a replacement; defaults to nothing. */
  delete?: InputCommand;
  /** Run on refresh to read the live state back; defaults to none (state is trusted). */
  read?: InputCommand;
  /** A change in any of these replaces the step (delete, then create). Defaults to []. */
  triggers?: pulumi.Input<pulumi.Input<string>[]>;
  /** Identical hosts' steps with the same key run create once and import the result (StepShare). */
  share?: pulumi.Input<StepShare>;
}

/**
 * One idempotent host action (a script run over SSH with a pinned host key) as a Pulumi
 * resource. `result` is the JSON object the script printed.
 */
export class RemoteStep extends pulumi.dynamic.Resource {
  declare public readonly result: pulumi.Output<Record<string, unknown>>;
  declare public readonly step: pulumi.Output<string>;

  constructor(name: string, args: RemoteStepArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<keyof RemoteStepInputs | "result", unknown> = {
      connection: args.connection,
      step: args.step,
      create: args.create,
      delete: args.delete,
      read: args.read,
      triggers: args.triggers ?? [],
      share: args.share,
      result: undefined,
    };
    super(defaultProvider(), name, props, {
      ...opts,
      // Outputs carry the connection (delete needs it) and so the private key: keep it secret.
      additionalSecretOutputs: ["connection"],
      deleteBeforeReplace: true,
    });
  }
}
