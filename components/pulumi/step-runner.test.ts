import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RunOptions, RunResult } from "../host";
import { buildShare } from "./netmap-kernel";
import { scriptBundle } from "./script-bundle";
import { createStep, setSessionFactoryForTests, sha256Of, type StepSession } from "./step-runner";
import type { RemoteStepInputs, StepConnection, StepShare } from "./step-types";

/** A promise with its resolve/reject handles, to hold a fake build until the test lets it go. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface FakeHost {
  hasBuild: boolean;
  /** Resolves (or rejects) the next "build" command. */
  gate?: Promise<void>;
  exportFails?: boolean;
  importFails?: boolean;
  imported?: Buffer;
  log: string[];
}

function result(code: number, stdout: string | Buffer, stderr = ""): RunResult {
  const bytes = Buffer.isBuffer(stdout) ? stdout : Buffer.from(stdout);
  return {
    code,
    stdout: bytes.toString("utf8"),
    stderr,
    stdoutBytes: bytes,
    stderrBytes: Buffer.from(stderr),
    truncated: false,
    durationMs: 1,
  };
}

/** Fake hosts that understand four commands: build, check, export, import. */
function fakeHosts(hosts: Record<string, FakeHost>): void {
  setSessionFactoryForTests((connection: StepConnection): StepSession => {
    const host = hosts[connection.host];
    if (!host) throw new Error(`no fake host ${connection.host}`);
    const run = async (
      _step: string,
      argv: readonly string[],
      options: RunOptions = {},
    ): Promise<RunResult> => {
      const command = argv[0] ?? "";
      host.log.push(command);
      switch (command) {
        case "build":
          await host.gate;
          host.hasBuild = true;
          return result(0, '{"buildDir":"/c/build/k","built":true,"buildKey":"k"}\n');
        case "check":
          return host.hasBuild
            ? result(0, '{"buildDir":"/c/build/k","built":false,"buildKey":"k"}\n')
            : result(3, "", "no current build");
        case "export":
          return host.hasBuild && !host.exportFails
            ? result(0, Buffer.from(`archive of ${connection.host}\u0000\u00ff`))
            : result(1, "", "export.sh: error: no build");
        case "import":
          if (host.importFails || !Buffer.isBuffer(options.stdin)) return result(1, "", "stamp differs");
          // As import.sh: the bytes must match the digest the controller sends, or nothing is unpacked.
          if (options.env?.NMTB_ARCHIVE_SHA256 !== sha256Of(options.stdin)) {
            return result(1, "", "import.sh: error: sha256 mismatch");
          }
          host.imported = options.stdin;
          host.hasBuild = true;
          return result(0, '{"buildDir":"/c/build/k","built":false,"imported":true,"buildKey":"k"}\n');
        default:
          return result(127, "", `unknown ${command}`);
      }
    };
    return {
      run,
      runChecked: async (step, argv, options) => {
        const r = await run(step, argv, options);
        if (r.code !== 0) throw new Error(`[${connection.host}/${step}] exit ${String(r.code)}: ${r.stderr}`);
        return r;
      },
      sftpPut: async () => {
        throw new Error("no uploads in these tests");
      },
      close: async () => undefined,
    };
  });
}

function host(_name: string, extra: Partial<FakeHost> = {}): FakeHost {
  return { hasBuild: false, log: [], ...extra };
}

function stepOn(name: string, share?: Partial<StepShare>): RemoteStepInputs {
  return {
    connection: { host: name, address: `${name}.test`, port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" },
    step: "netmap-build",
    create: { argv: ["build"] },
    triggers: [],
    builtOn: [],
    scriptsDigest: "",
    share: {
      key: "k",
      check: { argv: ["check"] },
      export: { argv: ["export"] },
      import: { argv: ["import"] },
      ...share,
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => setSessionFactoryForTests());

describe("step runner: builds shared across identical hosts", () => {
  it("builds on the first host, exports once and imports on the others while they wait", async () => {
    const gate = deferred();
    const hosts = { a: host("a", { gate: gate.promise }), b: host("b"), c: host("c") };
    fakeHosts(hosts);
    const a = createStep(stepOn("a"));
    await tick();
    const b = createStep(stepOn("b"));
    const c = createStep(stepOn("c"));
    await tick();
    expect(hosts.b.log).toEqual(["check"]); // waiting, not building
    gate.resolve();
    const [ra, rb, rc] = await Promise.all([a, b, c]);
    expect(ra.outs.result).toMatchObject({ built: true, share: { role: "built" } });
    for (const r of [rb, rc]) {
      expect(r.outs.result).toMatchObject({
        buildDir: "/c/build/k",
        built: false,
        imported: true,
        share: { role: "imported", from: "a" },
      });
    }
    expect(hosts.a.log.filter((c) => c === "build")).toHaveLength(1);
    expect(hosts.a.log.filter((c) => c === "export")).toHaveLength(1);
    expect(hosts.b.log).toEqual(["check", "import"]);
    expect(hosts.c.log).toEqual(["check", "import"]);
    // Binary bytes arrive intact.
    expect(hosts.b.imported?.equals(Buffer.from("archive of a\u0000\u00ff"))).toBe(true);
  });

  it("drops the archive once its importers are done: a later host gets a fresh export", async () => {
    const hosts = { a: host("a"), b: host("b"), c: host("c") };
    fakeHosts(hosts);
    await createStep(stepOn("a"));
    await createStep(stepOn("b"));
    await createStep(stepOn("c"));
    expect(hosts.a.log.filter((c) => c === "export")).toHaveLength(2);
    expect(hosts.c.imported?.toString("latin1")).toContain("archive of a");
  });

  it("a failed first build makes the others build themselves", async () => {
    const gate = deferred();
    const hosts = { a: host("a", { gate: gate.promise }), b: host("b") };
    fakeHosts(hosts);
    const a = createStep(stepOn("a"));
    await tick();
    const b = createStep(stepOn("b"));
    await tick();
    gate.reject(new Error("compile error"));
    await expect(a).rejects.toThrow("compile error");
    const rb = await b;
    expect(rb.outs.result).toMatchObject({ built: true, share: { role: "built" } });
    expect(String((rb.outs.result.share as { fallback?: string }).fallback)).toMatch(/failed/);
    expect(hosts.b.log).toEqual(["check", "build"]);
    expect(hosts.a.log).not.toContain("export");
  });

  it("a failed export or import makes the host build itself", async () => {
    const hosts = { a: host("a", { exportFails: true }), b: host("b"), c: host("c", { importFails: true }) };
    fakeHosts(hosts);
    await createStep(stepOn("a"));
    const rb = await createStep(stepOn("b"));
    expect(rb.outs.result).toMatchObject({ built: true, share: { role: "built" } });
    expect(String((rb.outs.result.share as { fallback?: string }).fallback)).toMatch(/export on a failed/);
    hosts.a.exportFails = false;
    const rc = await createStep(stepOn("c"));
    expect(rc.outs.result).toMatchObject({ built: true, share: { role: "built" } });
    expect(String((rc.outs.result.share as { fallback?: string }).fallback)).toMatch(/import on c failed/);
    expect(hosts.c.log).toEqual(["check", "import", "build"]);
  });

  it("a host that already has the build neither waits nor imports", async () => {
    const gate = deferred();
    const hosts = { a: host("a", { gate: gate.promise }), b: host("b", { hasBuild: true }) };
    fakeHosts(hosts);
    const a = createStep(stepOn("a"));
    await tick();
    const rb = await createStep(stepOn("b")); // resolves while a is still building
    expect(rb.outs.result).toMatchObject({ built: false, share: { role: "present" } });
    expect(hosts.b.log).toEqual(["check"]);
    gate.resolve();
    await a;
    expect(hosts.a.log).not.toContain("export");
  });

  it("steps of different keys do not share; steps without share run create only", async () => {
    const hosts = { a: host("a"), b: host("b") };
    fakeHosts(hosts);
    await createStep(stepOn("a", { key: "k1" }));
    await createStep(stepOn("b", { key: "k2" }));
    expect(hosts.b.log).toEqual(["check", "build"]);
    const plain = { ...stepOn("a"), share: undefined };
    const r = await createStep(plain);
    expect(r.outs.result).toEqual({ buildDir: "/c/build/k", built: true, buildKey: "k" });
  });

  it("with a controller cache, a later deployment's new host imports without any build", async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "nmtb-artifacts-"));
    try {
      const first = { a: host("a") };
      fakeHosts(first);
      await createStep(stepOn("a", { cacheDir }));
      expect(first.a.log).toEqual(["check", "build", "export"]);
      expect(fs.readdirSync(cacheDir).sort()).toEqual(["k.tgz", "k.tgz.sha256"]);
      // Kernel modules and root-run tools: the cache and its files are this user's only.
      expect(fs.statSync(cacheDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(cacheDir, "k.tgz")).mode & 0o777).toBe(0o600);
      const archive = fs.readFileSync(path.join(cacheDir, "k.tgz"));
      // sha256sum's own format: `sha256sum -c k.tgz.sha256` checks it in the directory.
      expect(fs.readFileSync(path.join(cacheDir, "k.tgz.sha256"), "utf8")).toBe(
        `${sha256Of(archive)}  k.tgz\n`,
      );
      const second = { d: host("d") }; // a new process: nothing in memory
      fakeHosts(second);
      const rd = await createStep(stepOn("d", { cacheDir }));
      expect(rd.outs.result).toMatchObject({
        imported: true,
        share: { role: "imported", from: "controller cache", sha256: sha256Of(archive) },
      });
      expect(second.d.log).toEqual(["check", "import"]);
      expect(second.d.imported).toEqual(archive);
      // An archive altered on the controller's disk no longer matches its record: it is deleted,
      // never sent, and the host builds.
      fs.writeFileSync(path.join(cacheDir, "k.tgz"), Buffer.from("altered"));
      const altered = { x: host("x") };
      fakeHosts(altered);
      const rx = await createStep(stepOn("x", { cacheDir }));
      expect(rx.outs.result).toMatchObject({ built: true, share: { role: "built" } });
      expect(altered.x.log).toEqual(["check", "build", "export"]);
      expect(fs.readFileSync(path.join(cacheDir, "k.tgz"))).toEqual(Buffer.from("archive of x\u0000\u00ff"));
      // A cached archive that does not import is dropped and the host builds.
      const third = { e: host("e", { importFails: true }) };
      fakeHosts(third);
      const re = await createStep(stepOn("e", { cacheDir }));
      expect(re.outs.result).toMatchObject({ built: true, share: { role: "built" } });
      expect(third.e.log).toEqual(["check", "import", "build", "export"]);
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});

describe("NetmapKernel's build share", () => {
  it("keys by the build key and runs build.sh's check, export.sh and import.sh with build.sh's arguments", () => {
    const args = ["--source-dir", "/var/cache/netmap-testbed/src/dir-1", "--commit", "c"];
    const share = buildShare("ab".repeat(32), args, "/ctl/cache");
    expect(share.key).toBe("ab".repeat(32));
    expect(share.check.argv.slice(2)).toEqual([...args, "--check-only"]);
    expect(share.check.argv[1]).toMatch(/netmap\/build\.sh$/);
    expect(share.export.argv.slice(1)).toEqual([
      expect.stringMatching(/netmap\/export\.sh$/),
      "--build-key",
      "ab".repeat(32),
    ]);
    expect(share.import.argv.slice(2)).toEqual(args);
    expect(share.import.argv[1]).toMatch(/netmap\/import\.sh$/);
    expect(share.cacheDir).toBe("/ctl/cache");
    expect(buildShare("k", args).cacheDir).toBeUndefined();
  });
});

describe("a command that names the host-script bundle", () => {
  function recordingHost(received: Array<string | Buffer | undefined>): void {
    setSessionFactoryForTests(
      (): StepSession => ({
        run: async (_step, _argv, options) => {
          received.push(options?.stdin);
          return result(0, '{"hash":"h"}\n');
        },
        runChecked: async (_step, _argv, options) => {
          received.push(options?.stdin);
          return result(0, '{"hash":"h"}\n');
        },
        sftpPut: async () => undefined,
        close: async () => undefined,
      }),
    );
  }
  const scriptsStep = (hash: string): RemoteStepInputs => ({
    ...stepOn("h1"),
    share: undefined,
    step: "install-scripts",
    create: { argv: ["install"], scriptBundle: hash },
  });

  it("gets the bundle packed by the runner on stdin: the state keeps its hash only", async () => {
    const received: Array<string | Buffer | undefined> = [];
    recordingHost(received);
    const bundle = scriptBundle();
    await createStep(scriptsStep(bundle.hash));
    expect(received).toEqual([bundle.base64]);
    expect(JSON.stringify(scriptsStep(bundle.hash)).length).toBeLessThan(1000);
  });

  it("is refused, naming both bundles, when the runner's package has other scripts", async () => {
    const received: Array<string | Buffer | undefined> = [];
    recordingHost(received);
    await expect(createStep(scriptsStep("0123456789abcdef"))).rejects.toThrow(
      new RegExp(`host h1: step "install-scripts": .*bundle ${scriptBundle().hash}.*bundle 0123456789abcdef`),
    );
    expect(received).toEqual([]);
  });
});
