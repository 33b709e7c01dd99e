import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

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

function sha256File(file: string): string {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer))
      hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
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
 * A directory packed as the same bytes every time for the same files (sorted, fixed times and
 * owners, gzip without a name or time), so its digest names its contents and an unchanged tree
 * uploads and builds nothing. `.git` stays behind: the hosts build the working tree as it is.
 */
function packDirectory(dir: string, cacheDir: string): { archive: string; sha256: string } {
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
    fs.writeFileSync(
      temporary,
      execFileSync("gzip", ["-n", "-6"], { input: tar, maxBuffer: 4 * 1024 * 1024 * 1024 }),
    );
    const sha256 = sha256File(temporary);
    const archive = path.join(cacheDir, `${sha256}.tar.gz`);
    fs.renameSync(temporary, archive);
    return { archive, sha256 };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * A topology's `source: { path }` ready to upload: a tarball as it is, a directory packed into
 * `cacheDir`. Runs on the controller each time the program runs (preview too), so the digest the
 * steps are keyed by is always that of the files as they are now.
 */
export function stageControllerSource(sourcePath: string, cacheDir = defaultSourceCacheDir()): StagedSource {
  const stat = fs.statSync(sourcePath);
  if (stat.isDirectory()) {
    const commit = cleanCommit(sourcePath);
    return { ...packDirectory(sourcePath, cacheDir), ext: "tar.gz", ...(commit ? { commit } : {}) };
  }
  const ext = archiveExt(sourcePath);
  if (!stat.isFile() || !ext) {
    throw new Error(`source ${sourcePath} is neither a directory nor a .tar, .tar.gz, .tgz or .tar.xz file`);
  }
  return { archive: sourcePath, sha256: sha256File(sourcePath), ext };
}
