/**
 * The user's Pulumi project, as the Pulumi CLI finds it: the nearest Pulumi.yaml at or above the
 * working directory, its `stackConfigDir`, and a stack's `Pulumi.STACK.yaml` there. An installed
 * netmap-testbed never looks in its own package: the stacks are the user's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { asRecord } from "./as-record";
import { readTextInput } from "./input-file";

export interface PulumiProject {
  /** The directory holding Pulumi.yaml. */
  readonly dir: string;
  /** The project's `name` (the default namespace of its config keys). */
  readonly name: string | undefined;
  /** Where the stacks' Pulumi.STACK.yaml files are (absolute). */
  readonly stackConfigDir: string;
}

export interface StackTopology {
  /** The topology file the stack's config names, absolute. */
  readonly file: string;
  /** The stack's Pulumi.STACK.yaml. */
  readonly stackFile: string;
}

/** Config keys naming a stack's topology, in the order they are looked up. */
export function topologyConfigKeys(projectName: string | undefined): string[] {
  const keys = ["netmap-testbed:topology"];
  if (projectName !== undefined && projectName !== "netmap-testbed") keys.push(`${projectName}:topology`);
  return keys;
}

const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.yml"];

/** Reads a YAML mapping, or gives the one-line problem. */
function readYamlMapping(file: string, fix: string): Record<string, unknown> | string {
  const input = readTextInput(file, fix);
  if ("problem" in input) return input.problem;
  let document: unknown;
  try {
    document = parseYaml(input.text);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    return `${file}: not valid YAML (${first})`;
  }
  return asRecord(document) ?? {};
}

/** The nearest Pulumi project at or above `cwd`, or the one-line reason there is none. */
export function findPulumiProject(cwd: string): PulumiProject | string {
  let dir = path.resolve(cwd);
  for (;;) {
    const file = PROJECT_FILES.map((name) => path.join(dir, name)).find((f) => fs.existsSync(f));
    if (file !== undefined) {
      const project = readYamlMapping(file, "fix the Pulumi project file");
      if (typeof project === "string") return project;
      const configDir = typeof project.stackConfigDir === "string" ? project.stackConfigDir : ".";
      return {
        dir,
        name: typeof project.name === "string" ? project.name : undefined,
        stackConfigDir: path.resolve(dir, configDir),
      };
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return (
        `no Pulumi project: no Pulumi.yaml in ${path.resolve(cwd)} or above; ` +
        `run this in your Pulumi project's directory to name a stack, or give the topology file`
      );
    }
    dir = parent;
  }
}

/** The topology a stack's config names (relative paths are relative to the project directory). */
export function findStackTopology(stack: string, cwd: string): StackTopology | string {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || stack === "." || stack === "..") {
    return `stack name "${stack}" may contain only letters, digits, ".", "_", "-"`;
  }
  const project = findPulumiProject(cwd);
  if (typeof project === "string") return project;
  const stackFile = path.join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackFile)) {
    return (
      `no stack "${stack}" in the Pulumi project ${project.dir} ` +
      `(no ${path.relative(project.dir, stackFile)}); create it with "pulumi stack init ${stack}", or give the topology file`
    );
  }
  const stackConfig = readYamlMapping(stackFile, "fix the stack's settings file");
  if (typeof stackConfig === "string") return stackConfig;
  const config = asRecord(stackConfig.config);
  const keys = topologyConfigKeys(project.name);
  const topology = keys
    .map((key) => config?.[key])
    .find((value) => typeof value === "string" && value !== "");
  if (typeof topology !== "string") {
    return (
      `${stackFile}: no ${keys.join(" or ")} in its config; ` +
      `set it with "pulumi config set --stack ${stack} netmap-testbed:topology PATH" (relative to ${project.dir})`
    );
  }
  return { file: path.resolve(project.dir, topology), stackFile };
}
