/**
 * The package as a user installs it: `npm pack` of this checkout (as built by `npm run build`)
 * installed into a scratch Pulumi project beside the newest `@pulumi/pulumi` the registry serves.
 * It must share that SDK (one instance), type-check the README's library example under a strict
 * `tsc` without skipLibCheck, expose exactly its documented entry points, run its CLI, and give
 * a `pulumi preview` of the example under the real engine (a file backend in the scratch dir).
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineBinDir, PROJECT_ROOT } from "../support/engine";

const NPM_FLAGS = ["--no-audit", "--no-fund", "--loglevel=error"];

/** The README's "Use as a library" example, as the README shows it. */
function readmeLibraryExample(): string {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const section = readme.split(/^## Use as a library$/m)[1] ?? "";
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error("README.md has no ```ts block under '## Use as a library'");
  return block[1];
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env: env ?? process.env, encoding: "utf8", timeout: 10 * 60_000 });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) {
    throw new Error(`${what} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

describe("the packed package in a user's project", () => {
  let scratch: string;
  let newestSdk: string;

  beforeAll(() => {
    const built = path.join(PROJECT_ROOT, "dist", "components", "index.js");
    if (!fs.existsSync(built))
      throw new Error(`${built} is missing: run npm run build first (npm test does)`);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-install-"));
    // --ignore-scripts: `prepare` would build again; the suite runs after `npm run build`.
    const packed = JSON.parse(
      ok(
        run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], PROJECT_ROOT),
        "npm pack",
      ),
    ) as { filename: string }[];
    newestSdk = ok(run("npm", ["view", "@pulumi/pulumi", "version"], scratch), "npm view").trim();
    fs.writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }));
    const typescript = (
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
        devDependencies: Record<string, string>;
      }
    ).devDependencies.typescript;
    ok(
      run(
        "npm",
        [
          "install",
          ...NPM_FLAGS,
          path.join(scratch, packed[0].filename),
          `@pulumi/pulumi@${newestSdk}`,
          `typescript@${typescript}`,
          "@types/node@20",
        ],
        scratch,
      ),
      "npm install",
    );
    fs.writeFileSync(path.join(scratch, "index.ts"), readmeLibraryExample());
    fs.copyFileSync(
      path.join(PROJECT_ROOT, "stacks", "topologies", "host-only.yaml"),
      path.join(scratch, "topology.yaml"),
    );
  });

  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("shares the program's @pulumi/pulumi: one copy, one instance", () => {
    const tree = JSON.parse(
      ok(run("npm", ["ls", "@pulumi/pulumi", "--all", "--json"], scratch), "npm ls"),
    ) as {
      dependencies: Record<string, { version: string; dependencies?: Record<string, { version: string }> }>;
    };
    expect(tree.dependencies["@pulumi/pulumi"].version).toBe(newestSdk);
    // npm's "deduped" entries carry no nested copy of their own.
    const nested = fs.existsSync(
      path.join(scratch, "node_modules", "netmap-testbed", "node_modules", "@pulumi"),
    );
    expect(nested).toBe(false);
    const sameInstance = ok(
      run(
        "node",
        [
          "-e",
          `const path = require("path");
           const program = require.resolve("@pulumi/pulumi");
           const library = require.resolve("@pulumi/pulumi", { paths: [path.dirname(require.resolve("netmap-testbed"))] });
           require("netmap-testbed");
           const loaded = Object.keys(require.cache).filter((f) => /[\\\\/]@pulumi[\\\\/]pulumi[\\\\/]index\\.js$/.test(f));
           console.log(JSON.stringify({ same: program === library, loaded }));`,
        ],
        scratch,
      ),
      "node",
    );
    const result = JSON.parse(sameInstance) as { same: boolean; loaded: string[] };
    expect(result.same).toBe(true);
    expect(result.loaded).toHaveLength(1);
  });

  it.each([
    ["node", "commonjs", "es2020"], // Pulumi's own TypeScript template
    ["node16", "node16", "es2022"],
  ])(
    "type-checks the README's example strictly, without skipLibCheck (moduleResolution %s)",
    (moduleResolution, module, target) => {
      // The documented subpath entry points too, with their types.
      fs.writeFileSync(
        path.join(scratch, "subpaths.ts"),
        'import { HostSessionPool } from "netmap-testbed/components/host";\n' +
          'import { computeDrift } from "netmap-testbed/components/status";\n' +
          "export const used = [HostSessionPool, computeDrift];\n",
      );
      const tsc = run(
        "node",
        [
          path.join(scratch, "node_modules", "typescript", "bin", "tsc"),
          "--strict",
          "--noEmit",
          "--skipLibCheck",
          "false",
          "--target",
          target,
          "--module",
          module,
          "--moduleResolution",
          moduleResolution,
          "--types",
          "node",
          "index.ts",
          "subpaths.ts",
        ],
        scratch,
      );
      expect(`${tsc.stdout}${tsc.stderr}`).toBe("");
      expect(tsc.status).toBe(0);
    },
  );

  it("exposes exactly the documented entry points", () => {
    const probe = ok(
      run(
        "node",
        [
          "-e",
          `const tryLoad = (id) => { try { require(id); return "ok"; } catch (e) { return e.code; } };
           console.log(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((id) => [id, tryLoad(id)]))));`,
          "netmap-testbed",
          "netmap-testbed/components/host",
          "netmap-testbed/components/status",
          "netmap-testbed/internal/remote-step-runner",
          "netmap-testbed/internal/local-step-runner",
          "netmap-testbed/package.json",
          "netmap-testbed/dist/components/plan",
          "netmap-testbed/components/plan",
        ],
        scratch,
      ),
      "node",
    );
    expect(JSON.parse(probe)).toEqual({
      "netmap-testbed": "ok",
      "netmap-testbed/components/host": "ok",
      "netmap-testbed/components/status": "ok",
      "netmap-testbed/internal/remote-step-runner": "ok",
      "netmap-testbed/internal/local-step-runner": "ok",
      "netmap-testbed/package.json": "ok",
      "netmap-testbed/dist/components/plan": "ERR_PACKAGE_PATH_NOT_EXPORTED",
      "netmap-testbed/components/plan": "ERR_PACKAGE_PATH_NOT_EXPORTED",
    });
  });

  it("runs its CLI from the user's project", () => {
    const validate = run("npx", ["--no-install", "netmap-testbed", "validate", "topology.yaml"], scratch);
    expect(validate.stderr).toBe("");
    expect(validate.status).toBe(0);
    const plan = run("npx", ["--no-install", "netmap-testbed", "plan", "topology.yaml"], scratch);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain("h1");
    const version = run("npx", ["--no-install", "netmap-testbed", "--version"], scratch);
    const packageVersion = (
      JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    expect(version.stdout.trim()).toBe(packageVersion);
    // A stack name is looked up in the user's project, never in the installed package's own
    // directory: here the project has no Pulumi.yaml yet, and the CLI says so in one line.
    const status = run("npx", ["--no-install", "netmap-testbed", "status", "lab"], scratch);
    expect(status.status).toBe(1);
    expect(status.stderr).toMatch(/no Pulumi project/);
    expect(status.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("previews the README's program under the real engine", () => {
    const env = {
      ...process.env,
      PATH: `${engineBinDir()}${path.delimiter}${process.env.PATH ?? ""}`,
      PULUMI_BACKEND_URL: `file://${path.join(scratch, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "scratch-passphrase",
      PULUMI_HOME: path.join(scratch, ".pulumi"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    fs.mkdirSync(path.join(scratch, "state"));
    fs.writeFileSync(
      path.join(scratch, "Pulumi.yaml"),
      "name: scratch\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
    );
    ok(run("pulumi", ["stack", "init", "t", "--non-interactive"], scratch, env), "pulumi stack init");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(scratch, "key")]);
    const privateKey = fs.readFileSync(path.join(scratch, "key"), "utf8");
    const set = spawnSync("pulumi", ["config", "set", "--secret", "sshPrivateKey"], {
      cwd: scratch,
      env,
      input: privateKey,
      encoding: "utf8",
    });
    ok(set, "pulumi config set");
    const preview = ok(
      run("pulumi", ["preview", "--non-interactive", "--diff"], scratch, env),
      "pulumi preview",
    );
    expect(preview).toContain("::scratch::netmap-testbed:index:Testbed::paper]");
    // A step of the dynamic provider, whose runner the engine loads from the scratch node_modules.
    expect(preview).toContain("dynamic/netmap-testbed:NetmapBuild::paper-h1-netmap-build]");
    expect(preview).toMatch(/\+ \d+ to create/);
    // The key is a secret: neither the engine's output nor the stack's config holds it in clear.
    const keyBody = privateKey.split("\n")[2];
    expect(preview).not.toContain(keyBody);
    expect(fs.readFileSync(path.join(scratch, "Pulumi.t.yaml"), "utf8")).not.toContain(keyBody);
  });
});
