/**
 * tools/setup-controller.sh's `packages=(` list covers what the tests run on the controller (the
 * machine running jest), so `npm run test:fresh` works on a fresh Debian 12 machine: a command
 * missing there makes a test fail or, worse, skip.
 *
 * Scanned: every TypeScript file jest loads (test/, components/, stacks/, playbooks/), for the
 * commands started with execFile/execFileSync/spawn/spawnSync (first argument, followed through
 * constants and through wrapper functions to their call sites), the argv of commands run on
 * network-namespace hosts (they run here) and `bash -c`/`sh -c` snippets; and every shell script
 * a test runs here (tools/, .ci/, kernel-builds/, test/), for the commands in command position.
 * Left out: what runs only inside guest hosts ({@link GUEST_SIDE}), which apt-install their own
 * packages. Each command found must be classified below: a Debian package (in the list, or always
 * installed), part of the machine (Node.js, Go), or optional (used only when present).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(__dirname, "..", "..");
const SETUP = "tools/setup-controller.sh";

/** The Debian package (bookworm) that provides each command. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  // always installed (see BASE)
  awk: "mawk",
  base64: "coreutils",
  basename: "coreutils",
  bash: "bash",
  cat: "coreutils",
  chmod: "coreutils",
  chroot: "coreutils",
  cmp: "diffutils",
  cp: "coreutils",
  cut: "coreutils",
  date: "coreutils",
  du: "coreutils",
  df: "coreutils",
  dirname: "coreutils",
  "dpkg-query": "dpkg",
  env: "coreutils",
  find: "findutils",
  flock: "util-linux",
  grep: "grep",
  gzip: "gzip",
  head: "coreutils",
  hostname: "hostname",
  id: "coreutils",
  install: "coreutils",
  ldd: "libc-bin",
  ln: "coreutils",
  ls: "coreutils",
  mkdir: "coreutils",
  mktemp: "coreutils",
  mount: "mount",
  mountpoint: "util-linux",
  mv: "coreutils",
  nproc: "coreutils",
  readlink: "coreutils",
  realpath: "coreutils",
  rm: "coreutils",
  rmdir: "coreutils",
  sed: "sed",
  seq: "coreutils",
  setsid: "util-linux",
  sh: "dash",
  sha256sum: "coreutils",
  sha512sum: "coreutils",
  shuf: "coreutils",
  sleep: "coreutils",
  sort: "coreutils",
  stat: "coreutils",
  tail: "coreutils",
  tar: "tar",
  taskset: "util-linux",
  tee: "coreutils",
  timeout: "coreutils",
  touch: "coreutils",
  tr: "coreutils",
  truncate: "coreutils",
  umount: "mount",
  uname: "coreutils",
  unshare: "util-linux",
  nsenter: "util-linux",
  wc: "coreutils",
  xargs: "findutils",
  // from the list
  "apt-get": "apt",
  curl: "curl",
  debootstrap: "debootstrap",
  ethtool: "ethtool",
  debugfs: "e2fsprogs",
  genisoimage: "genisoimage",
  git: "git",
  ip: "iproute2",
  isoinfo: "genisoimage",
  make: "make",
  mcopy: "mtools",
  "mkfs.ext4": "e2fsprogs",
  "mkfs.vfat": "dosfstools",
  mlabel: "mtools",
  pgrep: "procps",
  pkill: "procps",
  ps: "procps",
  python3: "python3",
  "qemu-img": "qemu-utils",
  "qemu-system-x86_64": "qemu-system-x86",
  shellcheck: "shellcheck",
  ss: "iproute2",
  ssh: "openssh-client",
  "ssh-add": "openssh-client",
  "ssh-agent": "openssh-client",
  "ssh-keygen": "openssh-client",
  sshd: "openssh-server",
};

/**
 * Debian 12 packages on every installation (Essential: yes, or Priority: required, which
 * debootstrap's minbase and the Debian container images install).
 */
const BASE: ReadonlySet<string> = new Set([
  "apt",
  "bash",
  "coreutils",
  "dash",
  "diffutils",
  "dpkg",
  "findutils",
  "grep",
  "gzip",
  "hostname",
  "libc-bin",
  "mawk",
  "mount",
  "sed",
  "tar",
  "util-linux",
]);

/** Not Debian packages on the CI machine: it comes with them. */
const MACHINE: Readonly<Record<string, string>> = {
  node: "Node.js >= 20 runs jest itself (package.json engines)",
  npm: "comes with Node.js",
  npx: "comes with Node.js",
  go: "tools/pulumi-engine.sh builds the engine with the machine's Go toolchain (only if not cached)",
  pulumi: "the engine tools/pulumi-engine.sh makes (engineBinDir() first on PATH), not a package",
};

/** Used only when present; no test needs them: why. */
const OPTIONAL: Readonly<Record<string, string>> = {
  socat: "stop-host.sh's QMP power-down fallback, only without --force (the fixtures use --force)",
  nc: "stop-host.sh's QMP power-down fallback, as socat",
  wget: "fetch-image.sh's fallback when curl is missing (curl is in the list)",
  xorriso: "make-seed.sh's alternative to genisoimage (in the list)",
  "cloud-localds": "make-seed.sh's alternative to genisoimage (in the list)",
  systemctl: "vm.sh and status.sh use systemd only when it is PID 1 (the tests run vm.sh --no-systemd)",
  journalctl: "as systemctl",
  modprobe:
    "kernel-builds/lib/common.sh's module functions serve the netmap scripts, which run on guest hosts; " +
    "nmtb_nic_driver's alias lookup falls back to the link kind without it",
  modinfo: "status.sh reads module facts only when modinfo exists (have modinfo); else as modprobe",
  dpkg: "qemu/build.sh export names the runtime packages with dpkg -S where dpkg exists (Debian hosts); the list is empty otherwise",
  insmod: "as modprobe",
  rmmod: "as modprobe",
};

/** Paths (prefixes) whose scripts run only inside guest hosts, which install their own packages. */
const GUEST_SIDE: Readonly<Record<string, string>> = {
  "kernel-builds/image/guest-setup.sh":
    "runs inside a VM of the lab's image (nmtb-seed runs the seed's copy)",
  "kernel-builds/netmap/": "netmap build/load scripts: run on guest hosts (netmap-kernel, e2e, build-reuse)",
  "kernel-builds/lab/image/": "installed into the lab's base image",
  "test/fixtures/tiny-guest/": "built and booted inside a guest host (vm-lifecycle)",
  "test/fixtures/fake-netmap/": "staged on and built by guest hosts",
  "test/fixtures/guest/": "built inside a guest host (guest-host test)",
};

/**
 * execFile/spawn first arguments the scan cannot follow, each with where its commands are covered.
 * Keyed by `file: expression`.
 */
const DYNAMIC: Readonly<Record<string, string>> = {
  "components/pulumi/local-step-runner.ts: file":
    "controller steps' argv: bash + kernel-builds/lab scripts, scanned as scripts",
  "components/host/shell-quote.test.ts: shell": "it.each over /bin/sh and /bin/bash",
  "test/support/status-fake-host-tree.ts: argv[0]":
    "the planner's QEMU argv mapped onto test/fixtures/fake-qemu-vm (python3, found by its shebang)",
};

/** Shell builtins and keywords: never external commands. */
const SHELL_WORDS = new Set(
  (
    ". : [ alias bg bind break builtin caller case cd command compgen complete continue declare dirs " +
    "disown do done echo elif else enable esac eval exec exit export false fc fg fi for function " +
    "getopts hash help history if in jobs kill let local logout mapfile popd printf pushd pwd read " +
    "readarray readonly return select set shift shopt source suspend test then time times trap true " +
    "type typeset ulimit umask unalias unset until wait while"
  ).split(" "),
);

/** Commands that run the command after their own options (`timeout 5 ssh …`). */
const WRAPPERS: Readonly<Record<string, RegExp>> = {
  timeout: /^(-[-\w=]+|\d+[smhd]?|\d+\.\d+)$/,
  setsid: /^-\w+$/,
  xargs: /^-[-\w=]+$/,
  nice: /^-[-\w=]+$/,
  env: /^(-[-\w=]+|[A-Za-z_]\w*=.*)$/,
  exec: /^-\w+$/,
  nohup: /^$/,
};

interface Use {
  command: string;
  where: string;
}

// ---------------------------------------------------------------- files

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!["node_modules", "dist", ".git", "coverage", "results"].includes(entry.name)) walk(rel, out);
    } else {
      out.push(rel);
    }
  }
  return out;
}

const guestSide = (file: string): boolean => Object.keys(GUEST_SIDE).some((p) => file.startsWith(p));

/** Shell scripts run on the controller: *.sh and files with a shell shebang, outside GUEST_SIDE. */
function shellScripts(): string[] {
  return ["tools", ".ci", "kernel-builds", "test"]
    .flatMap((dir) => walk(dir))
    .filter((file) => !guestSide(file))
    .filter(
      (file) => file.endsWith(".sh") || /^#!.*\b(ba)?sh\b/.test(readFileSync(path.join(ROOT, file), "utf8")),
    );
}

/** Other scripts run on the controller, by interpreter (their contents are not shell). */
function otherScripts(): Use[] {
  return ["test", "kernel-builds"]
    .flatMap((dir) => walk(dir))
    .filter((file) => !guestSide(file) && !file.endsWith(".sh"))
    .flatMap((file) => {
      const first = readFileSync(path.join(ROOT, file), "utf8").split("\n")[0]!;
      const m = /^#!\s*\S*?\/env\s+(\S+)|^#!\s*(\S+)/.exec(first);
      const interpreter = m ? path.basename(m[1] ?? m[2]!) : undefined;
      return interpreter && !["bash", "sh"].includes(interpreter)
        ? [{ command: interpreter, where: `${file}:1` }]
        : [];
    });
}

const tsFiles = (): string[] =>
  ["test", "components", "stacks", "playbooks"]
    .flatMap((dir) => walk(dir))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));

// ---------------------------------------------------------------- shell

/** One simple command: its words (a word with an expansion starts with `$`) and its line. */
interface SimpleCommand {
  words: string[];
  line: number;
}

/** Index just past the `close` that balances the `open` at `from` (quotes skipped), or text.length. */
function balanced(text: string, from: number, open: string, close: string): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") i++;
    else if (c === "'") i = Math.max(i, text.indexOf("'", i + 1));
    else if (c === '"') i = closingDoubleQuote(text, i);
    else if (text.startsWith(open, i)) {
      depth++;
      i += open.length - 1;
    } else if (text.startsWith(close, i)) {
      depth--;
      i += close.length - 1;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

function closingDoubleQuote(text: string, from: number): number {
  for (let i = from + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

const lineAt = (text: string, index: number, first: number): number =>
  first + (text.slice(0, index).match(/\n/g)?.length ?? 0);

/**
 * The simple commands of a shell text, with a small lexer: quotes, `$( )`/backticks/`<( )` (whose
 * commands are returned too), `${ }`, `$(( ))`, `(( ))`, `[[ ]]`, arrays, redirections, comments,
 * heredoc bodies (data for elsewhere: Python, cloud-init, usage text) and case patterns.
 */
function parseShell(text: string, first = 1): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let start = 0;
  const heredocs: string[] = [];
  let casePattern = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
    if (words.length === 3 && words[0] === "case" && words[2] === "in") {
      words = [];
      casePattern = true;
    } else if (casePattern && words.length === 1 && words[0] === "esac") {
      words = [];
      casePattern = false;
    }
  };
  const endCommand = (at: number): void => {
    endWord();
    if (words.length > 0 && !casePattern) out.push({ words, line: lineAt(text, start, first) });
    words = [];
    start = at;
  };
  const nested = (from: number, to: number): void => {
    out.push(...parseShell(text.slice(from, to), lineAt(text, from, first)));
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1] ?? "";
    if (c === "\\") {
      if (next !== "\n") {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (c === "\n") {
      endCommand(i + 1);
      i++;
      for (const terminator of heredocs.splice(0)) {
        while (i < text.length) {
          const end = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i);
          const body = text.slice(i, end);
          i = end + 1;
          if (body.trim() === terminator) break;
        }
      }
      start = i;
    } else if (c === "#" && !inWord) {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (c === "'" || (c === "$" && next === "'")) {
      const from = c === "$" ? i + 1 : i;
      let end = from + 1;
      while (end < text.length && text[end] !== "'") end += c === "$" && text[end] === "\\" ? 2 : 1;
      word += text.slice(from + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const end = closingDoubleQuote(text, i);
      const body = text.slice(i + 1, end);
      for (let k = body.indexOf("$("); k >= 0; k = body.indexOf("$(", k + 1)) {
        if (body[k + 2] !== "(") nested(i + 1 + k + 2, i + 1 + balanced(body, k + 1, "(", ")") - 1);
      }
      word += body.includes("$") ? `$${body}` : body;
      inWord = true;
      i = end + 1;
    } else if (text.startsWith("$((", i)) {
      i = balanced(text, i + 1, "(", ")");
      word += "$";
      inWord = true;
    } else if ((c === "$" || c === "<" || c === ">") && next === "(") {
      const end = balanced(text, i + 1, "(", ")");
      nested(i + 2, end - 1);
      word += "$";
      inWord = true;
      i = end;
    } else if (c === "$" && next === "{") {
      i = balanced(text, i + 1, "{", "}");
      word += "$";
      inWord = true;
    } else if (c === "`") {
      const end = text.indexOf("`", i + 1) < 0 ? text.length : text.indexOf("`", i + 1);
      nested(i + 1, end);
      word += "$";
      inWord = true;
      i = end + 1;
    } else if (c === "(" && inWord && word.endsWith("=")) {
      i = balanced(text, i, "(", ")"); // an array's items are data
      word += "()";
    } else if (!inWord && (text.startsWith("[[", i) || text.startsWith("((", i))) {
      i = c === "[" ? text.indexOf("]]", i) + 2 || text.length : balanced(text, i, "(", ")");
      words.push(c === "[" ? "[[" : "((");
    } else if (c === "<" && next === "<" && text[i + 2] !== "<") {
      endWord();
      const m = /^<<-?\s*(['"]?)([A-Za-z_]\w*)\1/.exec(text.slice(i));
      if (m) heredocs.push(m[2]!);
      i += m ? m[0].length : 2;
    } else if (c === "<" || c === ">" || (c === "&" && next === ">")) {
      // A redirection: drop its fd number and its target word.
      if (/^\d+$/.test(word)) word = "";
      endWord();
      i = i + /^(&>>?|<<<|>>|>&|<&|<>|>\||>|<)/.exec(text.slice(i))![0].length;
      while (text[i] === " " || text[i] === "\t") i++;
      const saved = words;
      words = [];
      while (i < text.length && !" \t\n;&|()".includes(text[i]!)) {
        if (text[i] === '"') i = closingDoubleQuote(text, i) + 1;
        else if (text[i] === "'") i = text.indexOf("'", i + 1) + 1 || text.length;
        else if (text.startsWith("$(", i)) i = balanced(text, i + 1, "(", ")");
        else i++;
      }
      words = saved;
    } else if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (casePattern && (c === "|" || c === "(")) {
      i++; // inside a case pattern
    } else if (casePattern && c === ")") {
      words = [];
      word = "";
      inWord = false;
      casePattern = false;
      i++;
      start = i;
    } else if (";&|(){}".includes(c)) {
      const wasCaseEnd = text.startsWith(";;", i);
      endCommand(i + 1);
      i += wasCaseEnd || /^(&&|\|\|)/.test(text.slice(i)) ? 2 : 1;
      start = i;
      if (wasCaseEnd) casePattern = true;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  endCommand(text.length);
  return out;
}

/** The external commands a simple command runs (none for builtins, functions and keywords). */
function commandWords(words: readonly string[]): string[] {
  const found: string[] = [];
  let k = 0;
  const skip = new Set([
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
    "time",
    "!",
    "{",
    "}",
    "done",
    "fi",
  ]);
  while (k < words.length && (skip.has(words[k]!) || /^[A-Za-z_]\w*(\[[^\]]*\])?\+?=/.test(words[k]!))) k++;
  let word = words[k];
  if (
    word === undefined ||
    ["for", "select", "local", "declare", "export", "readonly", "typeset", "function"].includes(word)
  ) {
    return found;
  }
  if (word === "command") {
    if (words[k + 1] === "-v") return found; // a probe, not a use
    word = words[++k];
  }
  if (word === "need_cmd") return words.slice(k + 1);
  while (word !== undefined && WRAPPERS[word] !== undefined) {
    if (word !== "exec") found.push(word);
    const options = WRAPPERS[word]!;
    k++;
    while (k < words.length && options.test(words[k]!)) k++;
    word = words[k];
  }
  if (word !== undefined) found.push(word);
  return found;
}

/** A command word as a command name, or undefined if it is not one (expansion, path into the tree). */
function commandName(word: string): string | undefined {
  const name = word.startsWith("/") ? path.posix.basename(word) : word;
  return /^[A-Za-z][\w.+-]*$/.test(name) ? name : undefined;
}

/** Function names defined in the scanned scripts (they are not external commands). */
function shellFunctions(scripts: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const file of scripts) {
    for (const m of readFileSync(path.join(ROOT, file), "utf8").matchAll(
      /^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)/gm,
    )) {
      names.add(m[1]!);
    }
  }
  return names;
}

/** The external commands a shell text runs, with where. */
function shellUses(file: string, text: string, functions: ReadonlySet<string>, firstLine = 1): Use[] {
  const uses: Use[] = [];
  if (firstLine === 1 && text.startsWith("#!")) {
    const m = /^#!\s*\S*?\/env\s+(\S+)|^#!\s*(\S+)/.exec(text);
    if (m) uses.push({ command: path.basename(m[1] ?? m[2]!), where: `${file}:1` });
  }
  for (const { words, line } of parseShell(text, firstLine)) {
    for (const word of commandWords(words)) {
      const name = commandName(word);
      if (name !== undefined && !SHELL_WORDS.has(name) && !functions.has(name)) {
        uses.push({ command: name, where: `${file}:${line}` });
      }
    }
  }
  return uses;
}

// ---------------------------------------------------------------- TypeScript

const EXEC_FUNCTIONS = new Set(["execFile", "execFileSync", "spawn", "spawnSync"]);

interface TsScan {
  uses: Use[];
  unresolved: string[];
  /** The DYNAMIC entries this file needed. */
  dynamic: Set<string>;
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

function lineOf(sf: ts.SourceFile, node: ts.Node): number {
  return sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
}

function stringValue(node: ts.Node): string | undefined {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : undefined;
}

/** What an identifier is bound to, lexically: a parameter (of which function) or a `const`'s value. */
function lookup(
  id: ts.Identifier,
): { fn: ts.SignatureDeclaration; index: number } | { init: ts.Expression } | undefined {
  for (let n: ts.Node | undefined = id.parent; n; n = n.parent) {
    if (ts.isFunctionLike(n)) {
      const index = n.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === id.text);
      if (index >= 0) return { fn: n, index };
    }
    if (ts.isBlock(n) || ts.isSourceFile(n)) {
      for (const statement of n.statements) {
        if (!ts.isVariableStatement(statement)) continue;
        for (const d of statement.declarationList.declarations) {
          if (ts.isIdentifier(d.name) && d.name.text === id.text && d.initializer)
            return { init: d.initializer };
        }
      }
    }
  }
  return undefined;
}

/** The name a function is called by: its own, or that of the variable holding it. */
function functionName(fn: ts.SignatureDeclaration): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name) return fn.name.getText();
  if (ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) return fn.parent.name.text;
  return undefined;
}

function scanTs(file: string, functions: ReadonlySet<string>): TsScan {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const uses: Use[] = [];
  const unresolved: string[] = [];
  const dynamic = new Set<string>();
  // Commands run on network-namespace hosts run on this machine.
  const netnsFile = /from "[./]*fixtures\/netns-hosts"/.test(text) || file.endsWith("netns-hosts.ts");
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);

  const shellSnippet = (node: ts.Node): void => {
    const snippet = ts.isTemplateExpression(node)
      ? [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(" _ ")
      : stringValue(node);
    if (snippet !== undefined) uses.push(...shellUses(file, snippet, functions, lineOf(sf, node)));
  };

  /** The arguments of `command`: `ip netns exec NS <cmd> …` runs cmd, `sh -c <snippet>` the snippet. */
  const args = (items: readonly ts.Expression[], command: string | undefined, where: string): void => {
    const [a, b] = items.map(stringValue);
    if (command === "ip" && a === "netns" && b === "exec" && items[3]) resolve(items[3], where, false);
    if ((command === "bash" || command === "sh") && a === "-c" && items[1]) shellSnippet(items[1]);
  };

  const depth: ts.Node[] = [];
  /** Records the command `expr` names; follows `const`s and wrapper parameters to their callers. */
  function resolve(expr: ts.Expression, where: string, head: boolean): string | undefined {
    if (depth.includes(expr) || depth.length > 5) return undefined;
    depth.push(expr);
    try {
      if (head) {
        if (ts.isArrayLiteralExpression(expr) && expr.elements[0]) {
          const command = resolve(expr.elements[0], where, false);
          args(expr.elements.slice(1), command, where);
          return command;
        }
        unresolved.push(`${where}: ${expr.getText(sf)} (an argv whose head the scan cannot see)`);
        return undefined;
      }
      const literal = stringValue(expr);
      if (literal !== undefined) {
        if (literal.includes("/") && !literal.startsWith("/")) return undefined; // a script in the tree
        const command = path.posix.basename(literal);
        // A HostSession argv goes through the host's shell: `true`, `echo` are its builtins.
        if (!SHELL_WORDS.has(command)) uses.push({ command, where });
        return command;
      }
      if (ts.isPropertyAccessExpression(expr) && expr.getText(sf) === "process.execPath") {
        uses.push({ command: "node", where });
        return "node";
      }
      if (ts.isCallExpression(expr) && /^path\.(join|resolve)$/.test(expr.expression.getText(sf))) {
        return undefined; // a path into the tree: a script, scanned as one
      }
      const element = ts.isElementAccessExpression(expr);
      const target = element ? expr.expression : expr;
      const binding = ts.isIdentifier(target) ? lookup(target) : undefined;
      if (binding && "init" in binding && !element) return resolve(binding.init, where, false);
      // A wrapper's parameter (`argv[0]` of an argv parameter): what its callers pass.
      if (binding && "fn" in binding && (!element || expr.argumentExpression.getText(sf) === "0")) {
        const name = functionName(binding.fn);
        const sites = calls.filter(
          (c) => name !== undefined && calleeName(c) === name && c.arguments[binding.index],
        );
        for (const site of sites)
          resolve(site.arguments[binding.index]!, `${file}:${lineOf(sf, site)}`, element);
        if (sites.length > 0) return undefined;
      }
      const key = `${file}: ${expr.getText(sf)}`;
      if (DYNAMIC[key] === undefined) unresolved.push(`${where}: ${expr.getText(sf)}`);
      else dynamic.add(key);
      return undefined;
    } finally {
      depth.pop();
    }
  }

  for (const call of calls) {
    const name = calleeName(call);
    const where = `${file}:${lineOf(sf, call)}`;
    const [first, second] = call.arguments;
    if (name !== undefined && EXEC_FUNCTIONS.has(name) && first) {
      const command = resolve(first, where, false);
      if (second && ts.isArrayLiteralExpression(second)) args(second.elements, command, where);
    } else if (!netnsFile || !ts.isPropertyAccessExpression(call.expression)) {
      continue;
    } else if (first && ts.isArrayLiteralExpression(first) && name === "exec") {
      resolve(first, where, true); // NetnsHost.exec(argv)
    } else if (second && ts.isArrayLiteralExpression(second) && /^run(Checked)?$/.test(name ?? "")) {
      resolve(second, where, true); // HostSession.run(step, argv) on a namespace host
    }
  }
  return { uses, unresolved, dynamic };
}

// ---------------------------------------------------------------- the checks

function listedPackages(): Set<string> {
  const text = readFileSync(path.join(ROOT, SETUP), "utf8");
  const m = /^packages=\(\n([\s\S]*?)^\)/m.exec(text);
  if (!m) throw new Error(`${SETUP} has no packages=( … ) list`);
  return new Set(
    m[1]!
      .split("\n")
      .map((line) => line.replace(/#.*/, ""))
      .flatMap((line) => line.split(/\s+/))
      .filter((word) => word !== ""),
  );
}

function scanAll(): { uses: Use[]; unresolved: string[]; dynamic: Set<string> } {
  const scripts = shellScripts();
  const functions = shellFunctions(scripts);
  const uses: Use[] = [...otherScripts()];
  for (const file of scripts)
    uses.push(...shellUses(file, readFileSync(path.join(ROOT, file), "utf8"), functions));
  const unresolved: string[] = [];
  const dynamic = new Set<string>();
  for (const file of tsFiles()) {
    const scan = scanTs(file, functions);
    uses.push(...scan.uses);
    unresolved.push(...scan.unresolved);
    for (const key of scan.dynamic) dynamic.add(key);
  }
  return { uses, unresolved, dynamic };
}

/** Each command once, with up to three places that run it. */
function byCommand(uses: readonly Use[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const use of uses) {
    const places = map.get(use.command) ?? [];
    if (places.length < 3) places.push(use.where);
    map.set(use.command, places);
  }
  return map;
}

describe(`${SETUP}'s package list covers the commands the tests run on the controller`, () => {
  const { uses, unresolved, dynamic } = scanAll();
  const commands = byCommand(uses);

  it("finds the commands the suite is known to run, by every route (the scan itself works)", () => {
    const found = (command: string, file: string): boolean =>
      uses.some((use) => use.command === command && use.where.startsWith(`${file}:`));
    for (const [command, file] of [
      ["ssh-keygen", "test/fixtures/netns-hosts.ts"], // through its runChecked(file, …) wrapper
      ["sshd", "test/fixtures/netns-hosts.ts"], // ip netns exec NS <SSHD constant>
      ["ss", "test/integration/host-session.test.ts"], // NetnsHost.exec(argv)
      ["isoinfo", "test/unit/image-scripts.test.ts"], // spawnSync("isoinfo", …)
      ["node", "test/integration/killed-run.test.ts"], // process.execPath
      ["gzip", "components/pulumi/script-bundle.ts"], // library code the tests run
      ["find", "test/integration/status.test.ts"], // a bash -c snippet
      ["qemu-img", "kernel-builds/lab/boot-host.sh"], // need_cmd
      ["qemu-system-x86_64", "kernel-builds/lab/boot-host.sh"], // a command over continued lines
      ["ssh", "kernel-builds/lab/boot-host.sh"], // after `timeout 20`
      ["mkfs.ext4", "kernel-builds/lab/build-image.sh"],
      ["make", "kernel-builds/qemu/build.sh"], // its unit test builds the stand-in QEMU tree
      ["shellcheck", "kernel-builds/lint.sh"],
      ["go", "tools/pulumi-engine.sh"],
      ["python3", "kernel-builds/lib/vm.sh"], // `python3 - <<'PY'`; the heredoc body is not shell
      ["python3", "test/fixtures/fake-qemu-vm/qemu-system-x86_64"], // by its shebang
    ] as const) {
      expect({ command, file, found: found(command, file) }).toEqual({ command, file, found: true });
    }
    // Data is not a command: usage text, messages, the image recipe's package array, Python code,
    // and what only guests run (the tiny guest's initramfs tools).
    for (const word of ["booting", "gcc", "unzip", "import", "dropbearkey", "cpio", "busybox"]) {
      expect({ word, found: commands.has(word) }).toEqual({ word, found: false });
    }
  });

  it("can tell which command every execFile/spawn call runs", () => {
    expect(unresolved).toEqual([]);
    // An entry for a call that is gone would hide the next one at that place.
    expect(Object.keys(DYNAMIC).filter((key) => !dynamic.has(key))).toEqual([]);
  });

  it("classifies every command it finds (package, machine or optional)", () => {
    const unknown = [...commands]
      .filter(([command]) => !(command in PACKAGE_OF || command in MACHINE || command in OPTIONAL))
      .map(
        ([command, where]) => `${command} (${where.join(", ")}): add it to PACKAGE_OF, MACHINE or OPTIONAL`,
      );
    expect(unknown).toEqual([]);
  });

  it("lists the package of every command that is not always installed", () => {
    const listed = listedPackages();
    const missing = [...commands]
      .filter(([command]) => command in PACKAGE_OF)
      .map(([command, where]) => ({ command, where, pkg: PACKAGE_OF[command]! }))
      .filter(({ pkg }) => !BASE.has(pkg) && !listed.has(pkg))
      .map(
        ({ command, pkg, where }) =>
          `${command}: package ${pkg} is not in ${SETUP}'s packages=( (used at ${where.join(", ")})`,
      );
    expect(missing).toEqual([]);
  });
});
