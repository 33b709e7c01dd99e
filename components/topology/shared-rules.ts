/**
 * The rules that both `validate` (TypeScript) and the host scripts (bash) apply to values that
 * reach a host's shell: one table, so that what validate accepts the scripts accept, and the
 * reverse. kernel-builds/lib/rules.sh is generated from it (`npm run gen:rules`); a unit test fails
 * while the two differ, and runs every case of test/unit/shared-rules-cases.ts through both.
 *
 * Patterns are written in the subset where JavaScript's RegExp and POSIX extended regular
 * expressions (bash's `=~`) agree: anchors, bracket expressions of ASCII ranges, groups,
 * alternation and bounded repeats; no escapes other than `\.`, no single quotes.
 */

export interface SharedRule {
  /** The bash function that checks a value (`nmtb_rule_NAME VALUE` exits 0 when it passes). */
  readonly shellName: string;
  /** What the value is, for messages. */
  readonly what: string;
  /** The value must match this. */
  readonly pattern: string;
  /** ... and none of these. */
  readonly forbidden: readonly string[];
  /** How to write a value that passes. */
  readonly hint: string;
}

export const SHARED_RULES = {
  /**
   * git's URL forms a host clones from: https:// (public forks), ssh:// and scp-like
   * user@host:path (private forks, with the host's own SSH credentials), git://, and file:///PATH
   * (a mirror already on each host, for air-gapped labs). Plain http:// is not taken: nothing
   * would check what arrives.
   */
  gitUrl: {
    shellName: "git_url",
    what: "git URL",
    pattern:
      "^((https|ssh|git)://[A-Za-z0-9._~:/@%+=,-]+|file:///[A-Za-z0-9._~/@%+=,-]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/%+=,-]+)$",
    forbidden: ["/\\.\\./", "/\\.\\.$"],
    hint: "use https://…, ssh://…, git://…, user@host:path or file:///PATH (a mirror on each host), without spaces or shell characters",
  },
  /** A subset of `git check-ref-format`; never an option (no leading "-"), never hidden (".x"). */
  gitRef: {
    shellName: "git_ref",
    what: "git ref",
    pattern: "^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$",
    forbidden: ["\\.\\.", "/$", "\\.lock$", "//", "/\\."],
    hint: 'a branch, tag or commit: letters, digits, ".", "_", "/", "+" or "-", starting with a letter, digit or "_", without ".." or a trailing "/"',
  },
  /** An absolute path on a host, as the scripts take it: no spaces, globs, quotes or "..". */
  hostPath: {
    shellName: "host_path",
    what: "path",
    pattern: "^/[A-Za-z0-9._+,@%=/:-]*$",
    forbidden: ["(^|/)\\.\\.(/|$)"],
    hint: 'an absolute path of letters, digits and ._+,@%=:/- without ".." components, e.g. /srv/netmap.tar.gz',
  },
} as const satisfies Record<string, SharedRule>;

export type SharedRuleName = keyof typeof SHARED_RULES;

/** Whether `value` passes the rule, exactly as the generated bash function decides. */
export function passesRule(rule: SharedRule, value: string): boolean {
  return new RegExp(rule.pattern).test(value) && rule.forbidden.every((p) => !new RegExp(p).test(value));
}

/** kernel-builds/lib/rules.sh: the same table as bash functions. */
export function renderShellRules(): string {
  const lines = [
    "#!/usr/bin/env bash",
    "# Generated from components/topology/shared-rules.ts by `npm run gen:rules`: do not edit.",
    "# The rules validate applies to values that reach a host's shell; sourced by common.sh.",
    "# shellcheck shell=bash",
    "",
  ];
  for (const rule of Object.values(SHARED_RULES) as SharedRule[]) {
    for (const text of [rule.pattern, ...rule.forbidden, rule.hint, rule.what]) {
      if (text.includes("'")) throw new Error(`shared rule ${rule.shellName}: no single quotes, please`);
    }
    lines.push(`# ${rule.what}: ${rule.hint}`);
    lines.push(`nmtb_rule_${rule.shellName}() {`);
    lines.push(`  local re='${rule.pattern}'`);
    lines.push("  [[ $1 =~ $re ]] || return 1");
    for (const forbidden of rule.forbidden) {
      lines.push(`  re='${forbidden}'`);
      lines.push("  [[ ! $1 =~ $re ]] || return 1");
    }
    lines.push("}");
    lines.push(`nmtb_require_${rule.shellName}() {`);
    lines.push(`  local hint='${rule.hint}'`);
    lines.push(
      `  nmtb_rule_${rule.shellName} "$1" || nmtb_usage_error "invalid \${2:-${rule.what}} '$1': $hint"`,
    );
    lines.push("}");
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
