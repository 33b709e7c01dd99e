/**
 * Runs local steps: commands on the controller itself (the local lab's image build and boot).
 * Loaded by the dynamic provider through the installed package, like the remote step runner.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { packageRoot } from "./package-root";
import { afterRead, type StepHandlers } from "./provider-runtime";
import { lastJsonObject } from "./step-runner";
import type { StepCommand, StepDefinition, StepState } from "./step-types";

/** A command on the controller: the same definition as a host step, without a connection. */
export type LocalStepInputs = StepDefinition;

export interface LocalStepOutputs extends LocalStepInputs, StepState {}

const DEFAULT_TIMEOUT_SEC = 3600;

/**
 * Arguments naming the package's own files (`kernel-builds/…`) are kept relative in the state and
 * resolved here, against the package this runner was loaded from: a destroy from another
 * checkout, or after this one moved, runs that checkout's scripts.
 */
export function resolvePackageFiles(argv: readonly string[], root = packageRoot()): string[] {
  return argv.map((arg) => (arg.startsWith("kernel-builds/") ? path.join(root, arg) : arg));
}

/** Runs a command on the controller; fails with the step name and the tail of its output. */
export function runLocalCommand(step: string, command: StepCommand): Promise<Record<string, unknown>> {
  const [file, ...args] = resolvePackageFiles(command.argv);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        env: { ...process.env, ...command.env },
        timeout: (command.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          const tail = `${stderr}`.trim().split("\n").slice(-15).join("\n");
          reject(new Error(`controller step ${step} failed (${error.message.split("\n")[0]}):\n${tail}`));
          return;
        }
        resolve(lastJsonObject(stdout));
      },
    );
    if (command.stdin !== undefined) child.stdin?.end(command.stdin);
    else child.stdin?.end();
  });
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A local step's commands define the thing itself (a lab host's size): any change re-creates it. */
function diff(
  olds: LocalStepOutputs,
  news: LocalStepInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces = (["triggers", "builtOn", "create"] as const).filter(
    (key) => !same(olds[key] ?? [], news[key]),
  );
  const changes =
    replaces.length > 0 ||
    olds.drift !== undefined ||
    !same(olds.delete, news.delete) ||
    !same(olds.read, news.read);
  return { changes, replaces, deleteBeforeReplace: true };
}

async function create(inputs: LocalStepInputs): Promise<{ id: string; outs: LocalStepOutputs }> {
  const result = await runLocalCommand(inputs.step, inputs.create);
  return { id: inputs.step, outs: { ...inputs, result, instance: randomUUID() } };
}

export const handlers: StepHandlers<LocalStepInputs, LocalStepOutputs> = {
  check: async (_olds, news) => ({ inputs: news }),
  create,
  diff: async (_id, olds, news) => diff(olds, news),
  update: async (_id, olds, news) => {
    const result = olds.drift !== undefined ? (await create(news)).outs.result : olds.result;
    return { outs: { ...news, result, instance: olds.instance } };
  },
  read: async (id, props) => {
    if (!props.read) return { id, props };
    return afterRead(id, props, await runLocalCommand(`${props.step} (read)`, props.read));
  },
  delete: async (_id, props) => {
    if (props.delete) await runLocalCommand(`${props.step} (delete)`, props.delete);
  },
};
