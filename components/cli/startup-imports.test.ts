/**
 * `validate` and `plan` load only what they need: not the SSH client (ssh2), the plotting
 * libraries (vega, vega-lite) or the Pulumi SDK, which `status` and `run` bring and which would
 * multiply their start-up time. Checked in a fresh node process by listing the packages in
 * require.cache after the command ran, on the sources and, when built, on dist/.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "../..");
const topology = path.join(root, "stacks/topologies/local.yaml");
const playbook = path.join(root, "playbooks/host-baseline.yaml");
const HEAVY = /^(vega|vega-lite|ssh2|@pulumi\/.*)$/;

/**
 * Packages under node_modules that a fresh process has loaded after running `main(argv)` for each
 * argv in turn (one process for all: node's start-up dominates, and each must load none anyway).
 */
function packagesLoadedBy(
  mainModule: string,
  argvs: readonly (readonly string[])[],
  register: string[],
): string[] {
  const script = `
    const { main } = require(${JSON.stringify(mainModule)});
    const quiet = { out: () => undefined, err: () => undefined };
    (async () => {
      for (const argv of ${JSON.stringify(argvs)}) {
        const code = await main(argv, quiet);
        if (code !== 0) throw new Error(argv.join(" ") + " exited " + code);
      }
      const names = new Set();
      for (const file of Object.keys(require.cache)) {
        const parts = file.split(require("node:path").sep);
        const at = parts.lastIndexOf("node_modules");
        if (at < 0) continue;
        const scope = parts[at + 1];
        names.add(scope.startsWith("@") ? scope + "/" + parts[at + 2] : scope);
      }
      process.stdout.write(JSON.stringify([...names].sort()));
    })();`;
  const result = spawnSync(process.execPath, [...register, "-e", script], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`node exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

const builds: [string, string, string[]][] = [
  ["sources", "./components/cli/main.ts", ["-r", "ts-node/register/transpile-only"]],
];
if (fs.existsSync(path.join(root, "dist/components/cli/main.js"))) {
  builds.push(["dist", "./dist/components/cli/main.js", []]);
}

describe.each(builds)("start-up imports (%s)", (_name, mainModule, register) => {
  it("validate, plan, plan --json, run --check and --version load no vega, vega-lite, ssh2 or @pulumi", () => {
    const names = packagesLoadedBy(
      mainModule,
      [
        ["--version"],
        ["validate", topology],
        ["plan", topology],
        ["plan", topology, "--json"],
        ["run", playbook, "--check"],
      ],
      register,
    );
    expect(names).toContain("yaml"); // the listing works: the topology parser's one dependency is there
    expect(names.filter((name) => HEAVY.test(name))).toEqual([]);
  });

  it("the check would see them: a command that measures loads them", () => {
    // `run` without credentials stops before measuring; the runner module itself is what loads them.
    const script = `require(${JSON.stringify(mainModule.replace("cli/main", "playbooks/runner"))});
      const names = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](ssh2|vega)[\\\\/]/.test(f));
      process.stdout.write(String(names.length));`;
    const result = spawnSync(process.execPath, [...register, "-e", script], { cwd: root, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(Number(result.stdout)).toBeGreaterThan(0);
  });
});
