import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SourceSpec, TopologyModel } from "../topology/model";
import { sha256File } from "./file-digest";

/** A source on the controller as it goes to the hosts: one archive file and its digest. */
export interface StagedSource {
  /** The archive on the controller: the user's tarball itself, or the packed directory. */
  readonly archive: string;
  readonly sha256: string;
  /** What fetch.sh and qemu/build.sh tell the archive's format by. */
  readonly ext: "tar" | "tar.gz" | "tgz" | "tar.xz";
  /** The directory's git commit (HEAD of a clean checkout), when there is one. */
  readonly commit?: string;
}

/** Where packed directories go: $NMTB_SOURCE_CACHE_DIR, else ~/.cache/netmap-testbed/sources. */
export function defaultSourceCacheDir(): string {
  return process.env.NMTB_SOURCE_CACHE_DIR ?? path.join(os.homedir(), ".cache", "netmap-testbed", "sources");
}

function archiveExt(file: string): StagedSource["ext"] | undefined {
  const match = /\.(tar\.gz|tar\.xz|tgz|tar)$/.exec(file);
  return match ? (match[1] as StagedSource["ext"]) : undefined;
}

/** HEAD of a git checkout without uncommitted changes to tracked files; undefined otherwise. */
function cleanCommit(dir: string): string | undefined {
  try {
    const run = (args: string[]): string =>
      execFileSync("git", ["-C", dir, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    if (run(["rev-parse", "--show-toplevel"]) !== fs.realpathSync(dir)) return undefined;
    if (run(["status", "--porcelain", "--untracked-files=no"]) !== "") return undefined;
    const head = run(["rev-parse", "HEAD"]);
    return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A pax global header carrying `comment=<commit>`, as `git archive` writes it: the hosts'
 * fetch.sh reads the commit back with `git get-tar-commit-id`, so a directory's upstream commit
 * survives the packing. Its fields are fixed (mtime 0), so the archive stays reproducible.
 */
export function paxCommitHeader(commit: string): Buffer {
  const record = `52 comment=${commit}\n`;
  if (!/^[0-9a-f]{40}$/.test(commit) || record.length !== 52) throw new Error(`not a commit: ${commit}`);
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, text: string): void => {
    header.write(text.slice(0, length), offset, "ascii");
  };
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, "0")}\0`;
  put(0, 100, "pax_global_header");
  put(100, 8, octal(0o666, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(record.length, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, "        "); // the checksum counts its own field as spaces
  put(156, 1, "g");
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  const data = Buffer.alloc(512);
  data.write(record, 0, "ascii");
  return Buffer.concat([header, data]);
}

/**
 * What a directory looks like without reading its files: every entry's path, type, mode, size and
 * mtime (and the commit that goes into the header). Equal fingerprints mean the tree was packed
 * before; any edit changes a size or mtime, and then the tree is packed again.
 */
function treeFingerprint(dir: string, commit: string | undefined): string {
  const hash = createHash("sha256").update(`${path.resolve(dir)}\0${commit ?? ""}\n`);
  const walk = (relative: string): void => {
    const entries = fs.readdirSync(path.join(dir, relative)).sort();
    for (const name of entries) {
      if (relative === "" && name === ".git") continue;
      const entry = path.join(relative, name);
      const stat = fs.lstatSync(path.join(dir, entry), { bigint: true });
      hash.update(`${entry}\0${stat.mode}\0${stat.size}\0${stat.mtimeNs}\n`);
      if (stat.isDirectory()) walk(entry);
    }
  };
  walk("");
  return hash.digest("hex");
}

const fingerprintFile = (cacheDir: string, fingerprint: string): string =>
  path.join(cacheDir, `tree-${fingerprint}`);

/**
 * The archive an unchanged directory was packed into by an earlier run (preview, up, status),
 * so that only an edited tree is packed again. The steps check the archive's digest again
 * before it is uploaded.
 */
function packedBefore(
  cacheDir: string,
  fingerprint: string,
): { archive: string; sha256: string } | undefined {
  let sha256: string;
  try {
    sha256 = fs.readFileSync(fingerprintFile(cacheDir, fingerprint), "utf8").trim();
  } catch {
    return undefined;
  }
  const archive = path.join(cacheDir, `${sha256}.tar.gz`);
  if (!/^[0-9a-f]{64}$/.test(sha256) || !fs.existsSync(archive)) return undefined;
  const now = new Date();
  fs.utimesSync(archive, now, now); // still in use: pruned last
  return { archive, sha256 };
}

/** Packed trees kept: the newest ones (each edit of a source tree makes another). */
const CACHE_KEEP = 8;

function pruneCache(cacheDir: string, keep: string): void {
  const names = fs.readdirSync(cacheDir);
  const archives = names
    .filter((name) => /^[0-9a-f]{64}\.tar\.gz$/.test(name))
    .map((name) => path.join(cacheDir, name))
    .filter((file) => file !== keep)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const old of archives.slice(CACHE_KEEP - 1)) fs.rmSync(old, { force: true });
  // Fingerprints of trees whose archive is gone lead nowhere.
  for (const name of names.filter((n) => /^tree-[0-9a-f]{64}$/.test(n))) {
    const file = path.join(cacheDir, name);
    const sha256 = fs.readFileSync(file, "utf8").trim();
    if (!fs.existsSync(path.join(cacheDir, `${sha256}.tar.gz`))) fs.rmSync(file, { force: true });
  }
}

/**
 * A directory packed as the same bytes every time for the same files (sorted, fixed times and
 * owners, gzip without a name or time), so its digest names its contents and an unchanged tree
 * uploads and builds nothing. `.git` stays behind: the hosts build the working tree as it is,
 * and a clean checkout's HEAD travels in a pax header (paxCommitHeader).
 */
function packDirectory(
  dir: string,
  cacheDir: string,
  fingerprint: string,
  commit?: string,
): { archive: string; sha256: string } {
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const temporary = path.join(cacheDir, `.pack-${process.pid}-${Date.now().toString(36)}.tar.gz`);
  try {
    const tar = execFileSync(
      "tar",
      [
        "--sort=name",
        "--mtime=@0",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--exclude=.git",
        "-C",
        path.dirname(dir),
        "-cf",
        "-",
        path.basename(dir),
      ],
      { maxBuffer: 4 * 1024 * 1024 * 1024 },
    );
    // The commit goes first, where `git get-tar-commit-id` (fetch.sh) looks for it.
    const input = commit ? Buffer.concat([paxCommitHeader(commit), tar]) : tar;
    fs.writeFileSync(
      temporary,
      execFileSync("gzip", ["-n", "-6"], { input, maxBuffer: 4 * 1024 * 1024 * 1024 }),
    );
    const sha256 = sha256File(temporary);
    const archive = path.join(cacheDir, `${sha256}.tar.gz`);
    fs.renameSync(temporary, archive);
    fs.writeFileSync(fingerprintFile(cacheDir, fingerprint), `${sha256}\n`, { mode: 0o600 });
    pruneCache(cacheDir, archive);
    return { archive, sha256 };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * A topology's `source: { path }` ready to upload: a tarball as it is, a directory packed into
 * `cacheDir` (again only when its files changed since the last run). Runs on the controller each
 * time the program runs (preview too), so the digest the steps are keyed by is always that of
 * the files as they are now.
 */
export function stageControllerSource(sourcePath: string, cacheDir = defaultSourceCacheDir()): StagedSource {
  const stat = fs.statSync(sourcePath);
  if (stat.isDirectory()) {
    const commit = cleanCommit(sourcePath);
    // Taken before packing reads the files: an edit made meanwhile misses next time instead of hitting.
    const fingerprint = treeFingerprint(sourcePath, commit);
    const packed =
      packedBefore(cacheDir, fingerprint) ?? packDirectory(sourcePath, cacheDir, fingerprint, commit);
    return { ...packed, ext: "tar.gz", ...(commit ? { commit } : {}) };
  }
  const ext = archiveExt(sourcePath);
  if (!stat.isFile() || !ext) {
    throw new Error(`source ${sourcePath} is neither a directory nor a .tar, .tar.gz, .tgz or .tar.xz file`);
  }
  return { archive: sourcePath, sha256: sha256File(sourcePath), ext };
}

/** A model's controller sources, staged, and the model with their digests (what builds are keyed by). */
export interface StagedModel {
  readonly model: TopologyModel;
  readonly staged: { readonly netmap?: StagedSource; readonly qemu?: StagedSource };
}

/**
 * Stages the model's `source: { path }` entries (QEMU's only when a VM needs it) and writes each
 * archive's sha256 into its source, so that planning keys netmap's and QEMU's builds by the
 * files' contents. Every caller that plans what a deployment builds (the Testbed, `plan`,
 * `status`) goes through here, so they agree on the keys and prefixes.
 */
export function stageModelSources(model: TopologyModel, cacheDir = defaultSourceCacheDir()): StagedModel {
  const stage = (source: SourceSpec): { source: SourceSpec; staged?: StagedSource } => {
    if (source.kind !== "path") return { source };
    const staged = stageControllerSource(source.path, cacheDir);
    return { source: { ...source, sha256: staged.sha256 }, staged };
  };
  const netmap = stage(model.netmap.source);
  const qemu = model.qemu && model.vms.length > 0 ? stage(model.qemu.source) : undefined;
  return {
    model: {
      ...model,
      netmap: { ...model.netmap, source: netmap.source },
      ...(model.qemu && qemu ? { qemu: { ...model.qemu, source: qemu.source } } : {}),
    },
    staged: {
      ...(netmap.staged ? { netmap: netmap.staged } : {}),
      ...(qemu?.staged ? { qemu: qemu.staged } : {}),
    },
  };
}
