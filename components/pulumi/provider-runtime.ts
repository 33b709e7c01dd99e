import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { packageRoot } from "./package-root";

/** The provider calls a step kind implements (its runner module exports them as `handlers`). */
export interface StepHandlers<Inputs, Outputs> {
  check(olds: Outputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>>;
  create(inputs: Inputs): Promise<{ id: string; outs: Outputs }>;
  diff(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult>;
  update(id: string, olds: Outputs, news: Inputs): Promise<{ outs: Outputs }>;
  read(id: string, props: Outputs): Promise<{ id?: string; props?: Outputs }>;
  delete(id: string, props: Outputs): Promise<void>;
}

/**
 * Refresh, for every step kind: what the step's read printed (`live`) decides. `gone: true`
 * (nothing of it left) drops the step from the state; `present: false` keeps it, with the live
 * state as `drift`, shown as a diff and repaired by the next `pulumi up`; anything else matches.
 */
export function afterRead<Outputs extends { readonly drift?: Readonly<Record<string, unknown>> }>(
  id: string,
  props: Outputs,
  live: Record<string, unknown>,
): { id?: string; props?: Outputs } {
  if (live.gone === true) return {};
  const current = Object.fromEntries(Object.entries(props).filter(([key]) => key !== "drift")) as Outputs;
  return { id, props: live.present === false ? { ...current, drift: live } : current };
}

/** Runner modules, each exported by package.json as `netmap-testbed/internal/<name>`. */
export type RunnerName = "remote-step-runner" | "local-step-runner";

/**
 * The dynamic provider of a step kind. The engine stores it in the state as source text and runs
 * it later in its own process, perhaps after this checkout moved or from another one; so it
 * captures only the runner's name and, on each call, loads the runner through the package as
 * installed where the program runs (the engine starts the provider in the program's directory):
 * a user's node_modules/netmap-testbed, or this package itself by name from its own checkout.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export function runtimeProvider<Inputs, Outputs>(runner: RunnerName): pulumi.dynamic.ResourceProvider {
  const load = (): StepHandlers<Inputs, Outputs> => {
    const { createRequire } = require("node:module") as typeof import("node:module");
    const { join } = require("node:path") as typeof import("node:path");
    const found = createRequire(join(process.cwd(), "package.json"))(`netmap-testbed/internal/${runner}`) as {
      handlers: StepHandlers<Inputs, Outputs>;
    };
    return found.handlers;
  };
  return {
    check: (olds: Outputs, news: Inputs) => load().check(olds, news),
    create: (inputs: Inputs) => load().create(inputs),
    diff: (id: string, olds: Outputs, news: Inputs) => load().diff(id, olds, news),
    update: (id: string, olds: Outputs, news: Inputs) => load().update(id, olds, news),
    read: (id: string, props: Outputs) => load().read(id, props),
    delete: (id: string, props: Outputs) => load().delete(id, props),
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
      newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  }
  return newest;
}

/**
 * The provider runs the compiled runners, so they must exist before a deployment starts, not fail
 * in the provider process halfway through one (`npm ci` builds them through `prepare`). From a
 * checkout of this project, they must also be newer than the sources, or the provider would
 * silently run old code.
 */
export function assertRunnerBuilt(root: string = packageRoot()): void {
  const compiled = path.join(root, "dist", "components", "pulumi", "step-runner.js");
  if (!fs.existsSync(compiled)) {
    throw new Error(`netmap-testbed: ${compiled} is missing; run \`npm run build\` (npm ci does it)`);
  }
  const sources = path.join(root, "components");
  if (fs.existsSync(sources) && newestSource(sources) > fs.statSync(compiled).mtimeMs) {
    throw new Error(
      `netmap-testbed: ${path.join(root, "dist")} is older than the sources in ${sources}; run \`npm run build\``,
    );
  }
}
