import { planTestbed, planToJson, renderPlanTree, type TestbedPlan } from "../plan";
import { stageModelSources } from "../pulumi/controller-source";
import { formatIssue } from "../topology";
import { readTextInput } from "./input-file";
import type { CliIo } from "./io";
import { checkTopologyFile } from "./playbook-hint";
import { EXIT_INVALID, EXIT_USAGE, usageError } from "./usage-error";

const SYNOPSIS = "plan FILE [--json]";
const USAGE = `usage: netmap-testbed ${SYNOPSIS}

Prints what would be done on every host: builds, modules, VALE ports, pipes, each VM's QEMU argv.
Never contacts a host. --json prints it for scripts (hosts[].vms[].qemuArgs are exact argv arrays).

exit: 0 planned, 1 the file is invalid or cannot be read, 2 usage`;

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
  const rest = args.filter((arg) => arg !== "--json");
  const dashDash = rest.indexOf("--");
  const options = dashDash === -1 ? rest : rest.slice(0, dashDash);
  const unknown = options.find((arg) => arg.startsWith("-") && arg !== "-");
  if (unknown !== undefined) {
    io.err(usageError("plan", `unknown option ${unknown}`, SYNOPSIS));
    return EXIT_USAGE;
  }
  const files = dashDash === -1 ? rest : [...options, ...rest.slice(dashDash + 1)];
  if (files.length !== 1) {
    const problem =
      files.length === 0 ? "give a topology FILE" : `give one topology FILE, got ${files.length}`;
    io.err(usageError("plan", problem, SYNOPSIS));
    return EXIT_USAGE;
  }
  const [file] = files;
  const input = readTextInput(file, "give a topology file");
  if ("problem" in input) {
    io.err(input.problem);
    return EXIT_INVALID;
  }
  const check = checkTopologyFile(file, input.text);
  if ("hint" in check) {
    io.err(check.hint);
    return EXIT_INVALID;
  }
  const { model, issues } = check;
  if (!model || issues.length > 0) {
    for (const issue of issues) io.err(formatIssue(issue));
    return EXIT_INVALID;
  }
  let plan: TestbedPlan;
  try {
    plan = planTestbed(stageModelSources(model).model);
  } catch (error) {
    io.err(
      `${file}: cannot read a source on this machine: ${error instanceof Error ? error.message : String(error)}`,
    );
    return EXIT_INVALID;
  }
  io.out(json ? JSON.stringify(planToJson(plan), null, 2) : renderPlanTree(plan));
  return 0;
}
