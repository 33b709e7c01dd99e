import * as fs from "node:fs";
import { planTestbed, planToJson, renderPlanTree, type TestbedPlan } from "../plan";
import { stageModelSources } from "../pulumi/controller-source";
import { checkTopology, formatIssue } from "../topology";
import type { CliIo } from "./main";

const USAGE = "usage: netmap-testbed plan FILE [--json]";

/**
 * `plan FILE [--json]`: the per-host plan, computed from the file and, for `source: { path }`,
 * the digest of the files it names (builds are keyed by contents, as in a deployment).
 */
export function runPlan(args: readonly string[], io: CliIo): number {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const json = args.includes("--json");
  const files = args.filter((arg) => arg !== "--json");
  const unknown = files.filter((arg) => arg.startsWith("-"));
  if (files.length !== 1 || unknown.length > 0) {
    io.err(unknown.length > 0 ? `netmap-testbed plan: unknown option ${unknown[0]}\n${USAGE}` : USAGE);
    return 2;
  }
  const [file] = files;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    io.err(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 1;
  }
  const { model, issues } = checkTopology(text, file);
  if (!model || issues.length > 0) {
    for (const issue of issues) io.err(formatIssue(issue));
    return 1;
  }
  let plan: TestbedPlan;
  try {
    plan = planTestbed(stageModelSources(model).model);
  } catch (error) {
    io.err(
      `${file}: cannot read a source on this machine: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  io.out(json ? JSON.stringify(planToJson(plan), null, 2) : renderPlanTree(plan));
  return 0;
}
