/**
 * package.json as npm publishes it: the entry points the docs name and nothing else, the SDK as
 * a peer, the legal and history files, and a tarball without tests. (The install itself, into a
 * scratch project with the newest SDK, is test/integration/package-install.test.ts.)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { importSpecifiers, isTestFile, listTsFiles } from "../support/import-graph";

const ROOT = path.resolve(__dirname, "..", "..");

interface Manifest {
  license: string;
  repository?: { url: string };
  homepage?: string;
  bugs?: { url: string };
  main: string;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: Record<string, Record<string, string[]>>;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as Manifest;

/**
 * Every `netmap-testbed/<subpath>` the README and docs tell users to import (code lives under
 * components/ and internal/; `netmap-testbed/v1` and the like are format names, not modules).
 */
function documentedSubpaths(): string[] {
  const docs = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => path.join("docs", f))];
  const found = new Set<string>();
  for (const doc of docs.filter((f) => f.endsWith(".md"))) {
    const text = fs.readFileSync(path.join(ROOT, doc), "utf8");
    for (const match of text.matchAll(/["`]netmap-testbed\/((?:components|internal)\/[a-z0-9/-]+)["`]/g))
      found.add(match[1]);
  }
  return [...found].sort();
}

/** dist/components/x/y.js (or .d.ts) → the components/x/y.ts it is built from. */
function sourceOf(distFile: string): string {
  return distFile.replace(/^\.?\/?dist\//, "").replace(/(\.d\.ts|\.js)$/, ".ts");
}

describe("package.json", () => {
  it("exports exactly the documented entry points, each built from a source that exists", () => {
    const subpaths = documentedSubpaths();
    expect(subpaths).toEqual(
      expect.arrayContaining(["components/host", "components/status", "internal/remote-step-runner"]),
    );
    expect(Object.keys(manifest.exports).sort()).toEqual(
      [".", "./package.json", ...subpaths.map((subpath) => `./${subpath}`)].sort(),
    );
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (entry === "./package.json") continue;
      const files = typeof target === "string" ? [target] : [target.types, target.default];
      for (const file of files) expect(fs.existsSync(path.join(ROOT, sourceOf(file)))).toBe(true);
    }
  });

  it("gives the subpaths types under moduleResolution node too (typesVersions), the same files", () => {
    const mapped = manifest.typesVersions["*"];
    for (const subpath of documentedSubpaths()) {
      const target = manifest.exports[`./${subpath}`];
      const types = typeof target === "string" ? target.replace(/\.js$/, ".d.ts") : target.types;
      expect(mapped[subpath]).toEqual([types.replace(/^\.\//, "")]);
    }
    expect(Object.keys(mapped).sort()).toEqual(documentedSubpaths());
  });

  it("takes @pulumi/pulumi as a peer, so the components register with the program's own SDK", () => {
    expect(manifest.dependencies["@pulumi/pulumi"]).toBeUndefined();
    const range = manifest.peerDependencies["@pulumi/pulumi"];
    expect(range).toMatch(/^>=3\.\d+\.\d+ <4$/);
    // The suite runs on the range's lower bound; the install test on the newest release.
    expect(`>=${manifest.devDependencies["@pulumi/pulumi"]} <4`).toBe(range);
  });

  it("depends on every package the shipped code imports (types included)", () => {
    const packageOf = (specifier: string): string =>
      specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/");
    const imported = new Set<string>();
    // What tsconfig.build.json builds into dist: everything under components/ but the tests.
    for (const file of listTsFiles(path.join(ROOT, "components")).filter((f) => !isTestFile(f))) {
      for (const specifier of importSpecifiers(path.join(ROOT, file))) {
        if (!specifier.startsWith(".") && !specifier.startsWith("node:")) imported.add(packageOf(specifier));
      }
    }
    const runtime = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    expect([...imported].filter((name) => !runtime.has(name))).toEqual([]);
    // ssh2's types are part of the public surface (host-key algorithms): they ship as a dependency.
    expect(manifest.dependencies["@types/ssh2"]).toBeDefined();
  });

  it("carries a BSD-2-Clause LICENSE, a changelog and where the project lives", () => {
    expect(manifest.license).toBe("BSD-2-Clause");
    expect(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8")).toMatch(/^BSD 2-Clause License/);
    expect(fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8")).toMatch(/^## \[Unreleased\]/m);
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\//);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs?.url).toMatch(/^https:\/\//);
  });

  it("packs no tests, fixtures or test doubles", () => {
    const pack = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(pack.status).toBe(0);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "CHANGELOG.md", "README.md", "package.json"]));
    const testLike = files.filter((file) =>
      /(^|\/)(test|tests|__fixtures__|__snapshots__)\/|\.test\.|(^|\/)(test-|fake-)[^/]*$/.test(file),
    );
    expect(testLike).toEqual([]);
  });
});
