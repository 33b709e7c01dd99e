/**
 * validate and the host scripts apply one rule to git URLs, refs and host paths: the generated
 * kernel-builds/lib/rules.sh is what components/topology/shared-rules.ts renders, and every case
 * below gets the same verdict from the TypeScript check and from bash's own `=~` in rules.sh.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  passesRule,
  renderShellRules,
  SHARED_RULES,
  type SharedRuleName,
} from "../../components/topology/shared-rules";
import { checkGitUrl, checkHostPath, checkRef } from "../../components/topology/sources";

const ROOT = path.join(__dirname, "..", "..");
const RULES_SH = path.join(ROOT, "kernel-builds", "lib", "rules.sh");

const CASES: Record<SharedRuleName, { pass: string[]; fail: string[] }> = {
  gitUrl: {
    pass: [
      "https://github.com/luigirizzo/netmap.git",
      "https://github.com/netmap-unipi/qemu.git",
      "ssh://git@github.com/me/netmap.git",
      "git@github.com:me/netmap.git",
      "git://git.example.org/netmap.git",
      "file:///srv/mirrors/netmap.git",
      "https://user@example.org:8443/a/b~c%20d.git",
    ],
    fail: [
      "https://github.com/luigirizzo/netmap.git;$(id)",
      "https://github.com/x/y.git`id`",
      "http://github.com/luigirizzo/netmap.git",
      "github.com/luigirizzo/netmap",
      "file://relative/path",
      "file:///srv/../etc/shadow",
      "/srv/netmap.git",
      "--upload-pack=touch /tmp/x",
      "https://example.org/a b.git",
      "https://example.org/a\nb.git",
      "git@host:path with space",
      "-oProxyCommand=x@host:path",
      "",
    ],
  },
  gitRef: {
    pass: [
      "master",
      "89607e1406c1fa5ac2106bd2ff33417f090c0d60",
      "v3.0.94",
      "feature/ptnet-x",
      "release+1",
      "_tmp",
    ],
    fail: [
      ".hidden",
      "--upload-pack=x",
      "-x",
      "a..b",
      "branch/",
      "x.lock",
      "a//b",
      "a/.b",
      "a b",
      "a;b",
      "$(id)",
      "a\nb",
      "",
      "x".repeat(201),
    ],
  },
  hostPath: {
    pass: ["/srv/netmap.tar.gz", "/root/fake-qemu", "/", "/a/b.c/d_e-f+g,h@i%j=k:l", "/x/...", "/x/..y"],
    fail: [
      "relative/netmap.tar.gz",
      "/srv/../etc",
      "/..",
      "/x/..",
      "/a b",
      "/a'b",
      "/a$b",
      "/a*b",
      "/a\nb",
      "",
    ],
  },
};

/** bash's verdict for each value, through rules.sh exactly as the scripts source it. */
function shellVerdicts(rule: SharedRuleName, values: readonly string[]): boolean[] {
  const script = `. "$1"; while IFS= read -r -d '' v; do if nmtb_rule_${SHARED_RULES[rule].shellName} "$v"; then echo 1; else echo 0; fi; done`;
  const out = execFileSync("bash", ["-c", script, "bash", RULES_SH], {
    input: values.map((v) => `${v}\0`).join(""),
    encoding: "utf8",
  });
  return out
    .trim()
    .split("\n")
    .map((line) => line === "1");
}

describe("shared rules: validate and the host scripts agree", () => {
  it("kernel-builds/lib/rules.sh is generated from the table (run `npm run gen:rules` after changing it)", () => {
    expect(readFileSync(RULES_SH, "utf8")).toBe(renderShellRules());
  });

  it.each(Object.keys(CASES) as SharedRuleName[])(
    "%s: TypeScript and bash give every case the same verdict",
    (rule) => {
      const { pass, fail } = CASES[rule];
      const values = [...pass, ...fail];
      const expected = values.map((_, i) => i < pass.length);
      const ts = values.map((v) => passesRule(SHARED_RULES[rule], v));
      const shell = shellVerdicts(rule, values);
      const table = (verdicts: boolean[]) =>
        values.map((v, i) => `${JSON.stringify(v)}: ${String(verdicts[i])}`);
      expect(table(ts)).toEqual(table(expected));
      expect(table(shell)).toEqual(table(expected));
    },
  );

  it("validate's checks are the shared rules", () => {
    for (const url of [...CASES.gitUrl.pass, ...CASES.gitUrl.fail]) {
      expect(checkGitUrl(url) === undefined).toBe(passesRule(SHARED_RULES.gitUrl, url));
    }
    for (const ref of [...CASES.gitRef.pass, ...CASES.gitRef.fail]) {
      expect(checkRef(ref) === undefined).toBe(passesRule(SHARED_RULES.gitRef, ref));
    }
    for (const p of [...CASES.hostPath.pass, ...CASES.hostPath.fail]) {
      expect(checkHostPath(p) === undefined).toBe(passesRule(SHARED_RULES.hostPath, p));
    }
  });

  it("the scripts refuse what validate refuses, before doing anything", () => {
    const fetch = path.join(ROOT, "kernel-builds", "netmap", "fetch.sh");
    for (const [url, ref] of [
      ["https://github.com/luigirizzo/netmap.git;$(id)", "master"],
      ["https://github.com/luigirizzo/netmap.git", ".hidden"],
    ]) {
      let status = 0;
      let stderr = "";
      try {
        execFileSync("bash", [fetch, "--git", url, "--ref", ref], {
          env: { ...process.env, NMTB_CACHE_DIR: "/nonexistent/nmtb-shared-rules-test" },
          stdio: ["ignore", "pipe", "pipe"],
        });
      } catch (error) {
        const e = error as { status: number; stderr: Buffer };
        status = e.status;
        stderr = e.stderr.toString();
      }
      expect(status).toBe(2);
      expect(stderr).toMatch(/invalid git (URL|ref)/);
    }
  });
});
