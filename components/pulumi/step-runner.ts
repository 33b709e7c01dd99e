/**
 * Runs remote steps over ssh2 with pinned host keys. This module is what the dynamic provider
 * loads (from the compiled package) in Pulumi's provider process, and what the end-to-end tests
 * call directly: the same code either way.
 */
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { HostSession } from "../host";
import { sha256File } from "./file-digest";
import { packageRoot } from "./package-root";
import { scriptBundle } from "./script-bundle";
import { afterRead, type StepHandlers } from "./provider-runtime";
import type {
  RemoteStepInputs,
  RemoteStepOutputs,
  StepCommand,
  StepConnection,
  StepShare,
  StepUpload,
} from "./step-types";

const DEFAULT_TIMEOUT_SEC = 3600;

/** What the runner needs of a host session (a seam: tests substitute a fake). */
export type StepSession = Pick<HostSession, "run" | "runChecked" | "sftpPut" | "close">;

/** Makes the session for a host the first time a step runs there. */
export type StepSessionFactory = (connection: StepConnection) => StepSession;

const hostSessionFactory: StepSessionFactory = (connection) =>
  new HostSession({
    name: connection.host,
    address: connection.address,
    port: connection.port,
    user: connection.user,
    hostKey: connection.hostKey,
    credentials: {
      privateKey: connection.privateKey,
      passphrase: connection.passphrase,
      password: connection.password,
      agent: connection.agentSocket,
    },
  });

let sessionFactory: StepSessionFactory = hostSessionFactory;

const sessions = new Map<string, StepSession>();

/**
 * Tests only: sessions come from `factory` (undefined: real ssh2 sessions again). Forgets the
 * pooled sessions and the shared-artifact state without closing anything.
 */
export function setSessionFactoryForTests(factory?: StepSessionFactory): void {
  sessionFactory = factory ?? hostSessionFactory;
  sessions.clear();
  shares.clear();
}

function sessionKey(connection: StepConnection): string {
  return JSON.stringify([
    connection.host,
    connection.address,
    connection.port,
    connection.user,
    connection.hostKey,
  ]);
}

/** One connection per host for the whole provider process; steps share it through channels. */
export function sessionFor(connection: StepConnection): StepSession {
  const key = sessionKey(connection);
  let session = sessions.get(key);
  if (!session) {
    session = sessionFactory(connection);
    sessions.set(key, session);
  }
  return session;
}

/** Closes every pooled connection and forgets shared artifacts (tests; the provider process simply exits). */
export async function closeStepSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  shares.clear();
  await Promise.all(all.map((session) => session.close()));
}

/**
 * The last line of stdout that parses as a JSON object: scripts print progress on stderr and
 * exactly one JSON object on stdout, but tools they call may print before it.
 */
export function lastJsonObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n").map((line) => line.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (!line.startsWith("{")) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === "object" && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // not JSON: keep looking upwards
    }
  }
  return {};
}

/**
 * What a command reads on standard input: its `stdin`, or the host-script bundle it names, packed
 * from the package this runner was loaded from, which must be the one the program planned with.
 */
function commandStdin(connection: StepConnection, step: string, command: StepCommand): string | undefined {
  if (command.scriptBundle === undefined) return command.stdin;
  const bundle = scriptBundle();
  if (bundle.hash !== command.scriptBundle) {
    throw new Error(
      `host ${connection.host}: step "${step}": the host scripts of the netmap-testbed package this ` +
        `provider runs from (${packageRoot()}, bundle ${bundle.hash}) are not the ones the program ` +
        `planned with (bundle ${command.scriptBundle}): run pulumi in the project whose package the program uses`,
    );
  }
  return bundle.base64;
}

function runOptions(connection: StepConnection, step: string, command: StepCommand, stdin?: Buffer) {
  return {
    env: command.env ? { ...command.env } : undefined,
    stdin: stdin ?? commandStdin(connection, step, command),
    sudo: connection.user !== "root",
    timeoutMs: (command.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000,
  };
}

export async function runStepCommand(
  connection: StepConnection,
  step: string,
  command: StepCommand | undefined,
): Promise<Record<string, unknown>> {
  if (!command) {
    throw new Error(
      `host ${connection.host}: step "${step}" has no command: a step it stands on did not run`,
    );
  }
  const result = await sessionFor(connection).runChecked(
    step,
    [...command.argv],
    runOptions(connection, step, command),
  );
  return lastJsonObject(result.stdout);
}

function stepId(inputs: RemoteStepInputs): string {
  return `${inputs.connection.host}/${inputs.step}`;
}

// ---------------------------------------------------------------- artifacts shared across hosts

/** The host whose artifacts a key's other steps receive, once its create is done. */
interface ShareSource {
  readonly connection: StepConnection;
  readonly step: string;
  readonly export: StepCommand;
}

/** Per key, for the provider process (= one deployment): every host's step of that key sees it. */
interface ShareEntry {
  /** The first step's outcome: its host when it has the artifacts, undefined when it failed. */
  readonly source: Promise<ShareSource | undefined>;
  /** The exported archive while steps still import it; dropped when the last one is done. */
  archive?: Promise<Archive | undefined>;
  /** Steps currently waiting for or importing `archive`. */
  holders: number;
}

const shares = new Map<string, ShareEntry>();

interface Archive {
  readonly bytes: Buffer;
  /** sha256 of `bytes`, taken when they left the source host (or checked against the cache's record). */
  readonly sha256: string;
  /** Time the export took on the source host (0: read from the controller cache). */
  readonly exportMs: number;
  /** The source host, or "controller cache". */
  readonly from: string;
}

/** How a shared step got its artifacts; added to the step's result as `share`. */
export interface ShareReport {
  /** present: the host had them; built: compiled here; imported: received them. */
  readonly role: "present" | "built" | "imported";
  /** Imported: the host (or "controller cache") they came from. */
  readonly from?: string;
  /** Imported: archive size. */
  readonly bytes?: number;
  /** Imported: the archive's sha256, which the host verified before unpacking it. */
  readonly sha256?: string;
  /** Imported: time of the export on the source host (0 when it came from the controller cache). */
  readonly exportMs?: number;
  /** Imported: time of the import on this host. */
  readonly importMs?: number;
  /** Why an import was not used (the step then built itself). */
  readonly fallback?: string;
}

const CACHE_KEEP = 8;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sha256Of(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The controller cache directory, made this user's own (0700) when it is not yet; undefined when
 * it cannot be trusted: not a directory, a link, or another user's. Its archives hold kernel
 * modules and tools that hosts run as root.
 */
function privateCacheDir(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) return undefined;
    if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}

function cacheFile(share: StepShare): string | undefined {
  if (!share.cacheDir || !/^[A-Za-z0-9._-]{1,128}$/.test(share.key)) return undefined;
  const dir = privateCacheDir(share.cacheDir);
  return dir === undefined ? undefined : path.join(dir, `${share.key}.tgz`);
}

/**
 * A cached archive, only when its bytes match the digest recorded beside it when it was written:
 * a truncated or altered file is deleted, never sent to a host.
 */
function readCache(share: StepShare): { bytes: Buffer; sha256: string } | undefined {
  const file = cacheFile(share);
  if (!file) return undefined;
  let bytes: Buffer;
  let recorded: string;
  try {
    bytes = fs.readFileSync(file);
    // sha256sum's format ("HEX  NAME"), as native-build.sh writes it too: `sha256sum -c` checks it.
    recorded = fs.readFileSync(`${file}.sha256`, "utf8").trim().split(/\s+/)[0] ?? "";
  } catch {
    return undefined;
  }
  const sha256 = sha256Of(bytes);
  if (sha256 !== recorded) {
    dropCache(share);
    return undefined;
  }
  return { bytes, sha256 };
}

/** Atomic write, then keep only the newest CACHE_KEEP archives. A cache that cannot be written is skipped. */
function writeCache(share: StepShare, archive: Buffer, sha256: string): void {
  const file = cacheFile(share);
  if (!file || !share.cacheDir) return;
  try {
    const temporary = `${file}.${process.pid}.tmp`;
    // The digest first: an archive is never in place without the record it is checked against.
    fs.writeFileSync(`${temporary}.sha256`, `${sha256}  ${path.basename(file)}\n`, { mode: 0o600 });
    fs.renameSync(`${temporary}.sha256`, `${file}.sha256`);
    fs.writeFileSync(temporary, archive, { mode: 0o600 });
    fs.renameSync(temporary, file);
    const archives = fs
      .readdirSync(share.cacheDir)
      .filter((name) => name.endsWith(".tgz"))
      .map((name) => path.join(share.cacheDir ?? "", name))
      .map((p) => ({ p, mtime: fs.statSync(p).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of archives.slice(CACHE_KEEP)) {
      fs.rmSync(old.p, { force: true });
      fs.rmSync(`${old.p}.sha256`, { force: true });
    }
  } catch {
    // a controller cache is an optimisation: without it the next deploy builds
  }
}

function dropCache(share: StepShare): void {
  const file = cacheFile(share);
  if (!file) return;
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.sha256`, { force: true });
}

/** share.check: the create result when the host already has the artifacts, else undefined. */
async function checkPresent(
  inputs: RemoteStepInputs,
  share: StepShare,
): Promise<Record<string, unknown> | undefined> {
  try {
    const result = await sessionFor(inputs.connection).run(
      `${inputs.step} (check)`,
      [...share.check.argv],
      runOptions(inputs.connection, inputs.step, share.check),
    );
    if (result.code !== 0) return undefined;
    const json = lastJsonObject(result.stdout);
    return Object.keys(json).length > 0 ? json : undefined;
  } catch {
    return undefined; // the create that follows reports connection trouble
  }
}

/** share.export on the source host: the archive, or undefined (with the reason) when it failed. */
async function exportArchive(share: StepShare, source: ShareSource): Promise<Archive> {
  const cached = readCache(share);
  if (cached) return { ...cached, exportMs: 0, from: "controller cache" };
  const started = performance.now();
  const result = await sessionFor(source.connection).run(
    `${source.step} (export)`,
    [...source.export.argv],
    runOptions(source.connection, source.step, source.export),
  );
  if (result.code !== 0 || result.truncated || result.stdoutBytes.length === 0) {
    const why = result.truncated
      ? "archive larger than the session's output limit"
      : `exit ${String(result.code)}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`;
    throw new Error(`export on ${source.connection.host} failed (${why})`);
  }
  const sha256 = sha256Of(result.stdoutBytes);
  writeCache(share, result.stdoutBytes, sha256);
  return {
    bytes: result.stdoutBytes,
    sha256,
    exportMs: Math.round(performance.now() - started),
    from: source.connection.host,
  };
}

/**
 * share.import with the archive on stdin and its sha256 in NMTB_ARCHIVE_SHA256, which the host
 * checks before unpacking anything: the create result, or an Error saying why not.
 */
async function importArchive(
  inputs: RemoteStepInputs,
  share: StepShare,
  archive: { bytes: Buffer; sha256: string },
): Promise<{ result: Record<string, unknown>; importMs: number } | Error> {
  const started = performance.now();
  const command: StepCommand = {
    ...share.import,
    env: { ...share.import.env, NMTB_ARCHIVE_SHA256: archive.sha256 },
  };
  try {
    const result = await sessionFor(inputs.connection).run(
      `${inputs.step} (import)`,
      [...command.argv],
      runOptions(inputs.connection, inputs.step, command, archive.bytes),
    );
    if (result.code !== 0) {
      const tail = result.stderr.trim().split("\n").slice(-3).join(" | ");
      return new Error(`import on ${inputs.connection.host} failed (exit ${String(result.code)}: ${tail})`);
    }
    return { result: lastJsonObject(result.stdout), importMs: Math.round(performance.now() - started) };
  } catch (error) {
    return new Error(`import on ${inputs.connection.host} failed: ${describe(error)}`);
  }
}

/** The first step of a key: has it, imports from the controller cache, or builds. */
async function leadShared(
  inputs: RemoteStepInputs,
  share: StepShare,
): Promise<{ result: Record<string, unknown>; report: ShareReport }> {
  const present = await checkPresent(inputs, share);
  if (present) return { result: present, report: { role: "present" } };
  let fallback: string | undefined;
  const cached = readCache(share);
  if (cached) {
    const imported = await importArchive(inputs, share, cached);
    if (!(imported instanceof Error)) {
      return {
        result: imported.result,
        report: {
          role: "imported",
          from: "controller cache",
          bytes: cached.bytes.length,
          sha256: cached.sha256,
          exportMs: 0,
          importMs: imported.importMs,
        },
      };
    }
    fallback = imported.message;
    dropCache(share);
  }
  const result = await runStepCommand(inputs.connection, inputs.step, inputs.create);
  return { result, report: { role: "built", ...(fallback ? { fallback } : {}) } };
}

/** A later step of a key: has it, or waits for the first and imports its archive, or builds. */
async function followShared(
  inputs: RemoteStepInputs,
  share: StepShare,
  entry: ShareEntry,
): Promise<{ result: Record<string, unknown>; report: ShareReport }> {
  const present = await checkPresent(inputs, share);
  if (present) return { result: present, report: { role: "present" } };
  const source = await entry.source;
  let fallback = `the first ${inputs.step} of this key failed`;
  if (source) {
    entry.holders++;
    try {
      entry.archive ??= exportArchive(share, source);
      const archive = await entry.archive;
      if (archive) {
        const imported = await importArchive(inputs, share, archive);
        if (!(imported instanceof Error)) {
          return {
            result: imported.result,
            report: {
              role: "imported",
              from: archive.from,
              bytes: archive.bytes.length,
              sha256: archive.sha256,
              exportMs: archive.exportMs,
              importMs: imported.importMs,
            },
          };
        }
        fallback = imported.message;
      } else {
        fallback = `export from ${source.connection.host} failed`;
      }
    } catch (error) {
      fallback = describe(error);
    } finally {
      // Bounded memory: nobody needs the bytes once the last holder is done (a later step
      // exports again, or reads the controller cache).
      entry.holders--;
      if (entry.holders === 0) entry.archive = undefined;
    }
  }
  const result = await runStepCommand(inputs.connection, inputs.step, inputs.create);
  return { result, report: { role: "built", fallback } };
}

/** create with artifact sharing (see StepShare); falls back to a plain create whenever sharing cannot help. */
async function createShared(inputs: RemoteStepInputs, share: StepShare): Promise<Record<string, unknown>> {
  const existing = shares.get(share.key);
  let outcome: { result: Record<string, unknown>; report: ShareReport };
  if (existing) {
    outcome = await followShared(inputs, share, existing);
  } else {
    // Registered before the first await: a concurrent step of the same key must find it.
    let settle: (source: ShareSource | undefined) => void = () => undefined;
    const entry: ShareEntry = { source: new Promise((resolve) => (settle = resolve)), holders: 0 };
    shares.set(share.key, entry);
    try {
      outcome = await leadShared(inputs, share);
    } catch (error) {
      settle(undefined);
      if (shares.get(share.key) === entry) shares.delete(share.key);
      throw error;
    }
    const source: ShareSource = { connection: inputs.connection, step: inputs.step, export: share.export };
    settle(source);
    const file = cacheFile(share);
    if (file && !fs.existsSync(file)) {
      // With a controller cache, export at once (before the host's next step uses the build
      // directory); steps of this key waiting meanwhile take the same archive.
      entry.holders++;
      entry.archive ??= exportArchive(share, source).catch(() => undefined);
      try {
        await entry.archive;
      } finally {
        entry.holders--;
        if (entry.holders === 0) entry.archive = undefined;
      }
    }
  }
  return { ...outcome.result, share: outcome.report };
}

/**
 * StepUpload: the controller file, checked against the digest the program read (a file changed
 * since would be built under the wrong key), then copied over SFTP unless the host has it.
 */
async function uploadFile(inputs: RemoteStepInputs, upload: StepUpload): Promise<void> {
  const session = sessionFor(inputs.connection);
  const present = await session.run(
    `${inputs.step} (check)`,
    [...upload.skipIf.argv],
    runOptions(inputs.connection, inputs.step, upload.skipIf),
  );
  if (present.code === 0) return;
  let actual: string;
  try {
    actual = sha256File(upload.localPath);
  } catch (error) {
    throw new Error(
      `${inputs.connection.host}: step ${inputs.step}: cannot read ${upload.localPath} on this machine: ${describe(error)}`,
    );
  }
  if (actual !== upload.sha256) {
    throw new Error(
      `${inputs.connection.host}: step ${inputs.step}: ${upload.localPath} has sha256 ${actual}, not ${upload.sha256} as when this deployment read it: it changed meanwhile; run pulumi up again`,
    );
  }
  await session.sftpPut(upload.localPath, upload.remotePath, 0o600);
}

export async function createStep(inputs: RemoteStepInputs): Promise<{ id: string; outs: RemoteStepOutputs }> {
  if (inputs.upload) await uploadFile(inputs, inputs.upload);
  const result = inputs.share
    ? await createShared(inputs, inputs.share)
    : await runStepCommand(inputs.connection, inputs.step, inputs.create);
  return { id: stepId(inputs), outs: { ...inputs, result, instance: randomUUID() } };
}

export async function deleteStep(props: RemoteStepOutputs): Promise<void> {
  if (props.delete) await runStepCommand(props.connection, `${props.step} (delete)`, props.delete);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Where a step runs: another host (or another SSH endpoint) is another thing, not an update. */
function target(connection: StepConnection): unknown[] {
  return [connection.host, connection.address, connection.port, connection.user];
}

/**
 * Whether an update must run create again on the host: its commands or scripts changed, or the
 * last refresh found it drifted. A change of credentials alone is stored without host work.
 */
function needsHostWork(olds: RemoteStepOutputs, news: RemoteStepInputs): boolean {
  const changed = (["create", "delete", "read", "step", "scriptsDigest"] as const).some(
    (key) => !same(olds[key], news[key]),
  );
  return changed || olds.drift !== undefined;
}

/**
 * A changed trigger, a re-created foundation (`builtOn`) or another host replaces the step,
 * deleting the old one first, because two copies of a host-side thing (a loaded module, a VM)
 * cannot coexist; the engine cascades that replacement to the steps built on this one. Changed
 * commands or scripts, drift and new credentials are updates.
 */
export function diffStep(
  olds: RemoteStepOutputs,
  news: RemoteStepInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (!same(olds.triggers, news.triggers)) replaces.push("triggers");
  if (!same(olds.builtOn ?? [], news.builtOn)) replaces.push("builtOn");
  if (!same(target(olds.connection), target(news.connection))) replaces.push("connection");
  const changes = replaces.length > 0 || needsHostWork(olds, news) || !same(olds.connection, news.connection);
  return { changes, replaces, deleteBeforeReplace: true };
}

export async function updateStep(
  olds: RemoteStepOutputs,
  news: RemoteStepInputs,
): Promise<{ outs: RemoteStepOutputs }> {
  const result = needsHostWork(olds, news) ? (await createStep(news)).outs.result : olds.result;
  return { outs: { ...news, result, instance: olds.instance } };
}

/**
 * Refresh. A step whose thing has drifted (`present: false`: netmap unloaded, a VM stopped, a
 * port detached) stays in the state with what was read as `drift`, shown as a diff, and the next
 * `pulumi up` repairs it; only `gone: true` (nothing of it left) drops it from the state.
 */
export async function readStep(
  id: string,
  props: RemoteStepOutputs,
): Promise<{ id?: string; props?: RemoteStepOutputs }> {
  if (!props.read) return { id, props };
  const live = await runStepCommand(props.connection, `${props.step} (read)`, props.read);
  return afterRead(id, props, live);
}

/** How the engine passes a value that is not known yet (a preview before its producer ran). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function checkCommand(field: string, command: unknown, failures: pulumi.dynamic.CheckFailure[]): void {
  // Unknown in a preview; absent in an update whose step it comes from failed (--continue-on-error
  // checks such steps too). A failed check stops the whole update, so these go on to
  // runStepCommand, which fails this step alone if it is ever asked to run one.
  if (command === UNKNOWN || command === undefined) return;
  const argv = (command as { argv?: unknown } | undefined)?.argv;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((arg) => typeof arg !== "string")) {
    failures.push({ property: field, reason: `${field}.argv must be a non-empty list of strings` });
  }
}

/** Inputs a step cannot run with are refused before anything reaches a host. */
export function checkStep(news: RemoteStepInputs): pulumi.dynamic.CheckResult<RemoteStepInputs> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const connection: unknown = news.connection;
  if (connection !== UNKNOWN) {
    const fields = (connection ?? {}) as Partial<Record<keyof StepConnection, unknown>>;
    for (const key of ["host", "address", "user", "hostKey"] as const) {
      const value = fields[key];
      if (value !== UNKNOWN && (typeof value !== "string" || value === "")) {
        failures.push({ property: "connection", reason: `connection.${key} is required` });
      }
    }
    const port = fields.port;
    if (
      port !== UNKNOWN &&
      (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    ) {
      failures.push({ property: "connection", reason: "connection.port must be 1-65535" });
    }
  }
  if (typeof news.step !== "string" || !/^[A-Za-z0-9:._-]{1,128}$/.test(news.step)) {
    failures.push({
      property: "step",
      reason: `step ${JSON.stringify(news.step)}: letters, digits and :._- only`,
    });
  }
  checkCommand("create", news.create, failures);
  if (news.delete !== undefined) checkCommand("delete", news.delete, failures);
  if (news.read !== undefined) checkCommand("read", news.read, failures);
  return failures.length > 0 ? { failures } : { inputs: news };
}

/** What the dynamic provider calls; remote-step.ts finds this module through the installed package. */
export const handlers: StepHandlers<RemoteStepInputs, RemoteStepOutputs> = {
  check: async (_olds, news) => checkStep(news),
  create: createStep,
  diff: async (_id, olds, news) => diffStep(olds, news),
  update: async (_id, olds, news) => updateStep(olds, news),
  read: readStep,
  delete: async (_id, props) => deleteStep(props),
};
