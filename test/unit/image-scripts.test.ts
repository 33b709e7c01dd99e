/**
 * Runs kernel-builds/image/fetch-image.sh against a local HTTP server and make-seed.sh into a temp
 * dir, reading the seed's user-data back (from the image itself when the reader tool is present).
 */
import { execFile, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const root = path.resolve(__dirname, "../..");
const fetchScript = path.join(root, "kernel-builds/image/fetch-image.sh");
const seedScript = path.join(root, "kernel-builds/image/make-seed.sh");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-scripts-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** Async, so the in-process HTTP server keeps serving while the script runs. */
function runAsync(script: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile("bash", [script, ...args], { encoding: "utf8" }, (err, stdout, stderr) => {
      const code =
        err && typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 0;
      resolve({ status: err ? code || 1 : 0, stdout, stderr });
    });
  });
}

describe("fetch-image.sh", () => {
  const body = Buffer.from("QFI\xfb a pretend qcow2 image\n".repeat(1000), "latin1");
  const sha = createHash("sha256").update(body).digest("hex");
  const sha512 = createHash("sha512").update(body).digest("hex");
  let server: http.Server;
  let base: string;
  let hits: number;

  beforeEach(async () => {
    hits = 0;
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === "/image.qcow2") {
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end("not found");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("downloads, verifies and caches; the second run does not download", async () => {
    const cache = path.join(dir, "cache");
    const args = ["--url", `${base}/image.qcow2`, "--sha256", sha, "--cache-dir", cache];
    const first = await runAsync(fetchScript, args);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.status).toBe(0);
    const target = path.join(cache, `${sha}.img`);
    expect(JSON.parse(first.stdout)).toEqual({
      path: target,
      algorithm: "sha256",
      digest: sha,
      cached: false,
      bytes: body.length,
      url: `${base}/image.qcow2`,
    });
    expect(fs.readFileSync(target).equals(body)).toBe(true);
    expect(hits).toBe(1);

    const second = await runAsync(fetchScript, [...args.slice(0, 3), sha.toUpperCase(), ...args.slice(4)]);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ cached: true, path: target });
    expect(hits).toBe(1);
  });

  it("verifies a sha512 and caches it under its own name, beside the sha256 entry", async () => {
    const cache = path.join(dir, "cache");
    const url = `${base}/image.qcow2`;
    const first = await runAsync(fetchScript, ["--url", url, "--sha512", sha512, "--cache-dir", cache]);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.status).toBe(0);
    const target = path.join(cache, `sha512-${sha512}.img`);
    expect(JSON.parse(first.stdout)).toEqual({
      path: target,
      algorithm: "sha512",
      digest: sha512,
      cached: false,
      bytes: body.length,
      url,
    });
    expect(fs.readFileSync(target).equals(body)).toBe(true);

    const again = await runAsync(fetchScript, [
      "--url",
      url,
      "--sha512",
      sha512.toUpperCase(),
      "--cache-dir",
      cache,
    ]);
    expect(JSON.parse(again.stdout)).toMatchObject({ cached: true, path: target, digest: sha512 });
    // The same file pinned by sha256 is its own cache entry: the algorithms never share a name.
    const bySha256 = await runAsync(fetchScript, ["--url", url, "--sha256", sha, "--cache-dir", cache]);
    expect(JSON.parse(bySha256.stdout)).toMatchObject({ cached: false, algorithm: "sha256" });
    expect(fs.readdirSync(cache).sort()).toEqual([`${sha}.img`, `sha512-${sha512}.img`]);
    expect(hits).toBe(2);
  });

  it("keeps nothing on a sha512 mismatch and names both hashes", async () => {
    const cache = path.join(dir, "cache");
    const wrong = createHash("sha512").update("another image").digest("hex");
    const r = await runAsync(fetchScript, [
      "--url",
      `${base}/image.qcow2`,
      "--sha512",
      wrong,
      "--cache-dir",
      cache,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`sha512 mismatch for ${base}/image.qcow2: expected ${wrong}, got ${sha512}`);
    expect(r.stderr).toMatch(/nothing kept/);
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it("takes exactly one digest, of the right length for its algorithm", async () => {
    const cache = path.join(dir, "cache");
    const url = `${base}/image.qcow2`;
    const both = await runAsync(fetchScript, ["--url", url, "--sha256", sha, "--sha512", sha512]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("give exactly one of --sha256 and --sha512");
    const neither = await runAsync(fetchScript, ["--url", url, "--cache-dir", cache]);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain("--sha256 or --sha512 is required");
    const swapped = await runAsync(fetchScript, ["--url", url, "--sha512", sha, "--cache-dir", cache]);
    expect(swapped.status).toBe(2);
    expect(swapped.stderr).toContain("128 hexadecimal digits");
    expect(hits).toBe(0);
  });

  it("keeps nothing on a sha256 mismatch and names both hashes", async () => {
    const cache = path.join(dir, "cache");
    const wrong = "0".repeat(64);
    const r = await runAsync(fetchScript, [
      "--url",
      `${base}/image.qcow2`,
      "--sha256",
      wrong,
      "--cache-dir",
      cache,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`expected ${wrong}, got ${sha}`);
    expect(r.stderr).toMatch(/nothing kept/);
    expect(fs.readdirSync(cache)).toEqual([]);
  });

  it("fails clearly on HTTP errors and bad arguments", async () => {
    const cache = path.join(dir, "cache");
    const r = await runAsync(fetchScript, [
      "--url",
      `${base}/missing`,
      "--sha256",
      sha,
      "--cache-dir",
      cache,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/downloading .*\/missing failed: .*404/);
    expect(fs.readdirSync(cache)).toEqual([]);
    const bad = await runAsync(fetchScript, ["--url", "http://x/a b", "--sha256", sha, "--cache-dir", cache]);
    expect(bad.status).toBe(2);
    const badSha = await runAsync(fetchScript, [
      "--url",
      `${base}/image.qcow2`,
      "--sha256",
      "abc",
      "--cache-dir",
      cache,
    ]);
    expect(badSha.status).toBe(2);
  });
});

describe("make-seed.sh", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv0r5gKx9kZ3TQ5S8x2Ey5n0oM4Jm5Jt7dGm8o8XbQ2 testbed@ctl";
  const have = (tool: string): boolean => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;

  function seed(args: string[]): {
    status: number | null;
    stdout: string;
    stderr: string;
    json: Record<string, unknown>;
  } {
    const r = spawnSync("bash", [seedScript, ...args], { encoding: "utf8" });
    return { ...r, json: r.status === 0 ? (JSON.parse(r.stdout) as Record<string, unknown>) : {} };
  }

  const netmapArgs = ["--netmap-source-git", "https://github.com/luigirizzo/netmap", "--ref", "v14.0"];

  it("writes user-data that sets the hostname, the key and builds/loads netmap with ptnet_vnet_hdr=0", () => {
    const out = path.join(dir, "seed.img");
    const emit = path.join(dir, "emit");
    const r = seed(["--out", out, "--hostname", "vm1", "--ssh-key", key, ...netmapArgs, "--emit-dir", emit]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(r.json).toMatchObject({ path: out, changed: true });
    const userData = fs.readFileSync(path.join(emit, "user-data"), "utf8");
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(userData) as {
      hostname: string;
      users: { name: string; ssh_authorized_keys: string[]; sudo: string }[];
      write_files: { path: string; content: string }[];
      runcmd: string[][];
    };
    expect(doc.hostname).toBe("vm1");
    expect(doc.users[0]).toMatchObject({ name: "netmap", ssh_authorized_keys: [key] });
    const files = Object.fromEntries(doc.write_files.map((f) => [f.path, f.content]));
    expect(files["/etc/modprobe.d/netmap-testbed.conf"]).toMatch(/^options netmap ptnet_vnet_hdr=0$/m);
    const build = files["/usr/local/sbin/netmap-testbed-guest-netmap"];
    expect(build).toContain("git clone -q 'https://github.com/luigirizzo/netmap' /usr/src/netmap");
    expect(build).toContain("git checkout -q --detach 'v14.0'");
    expect(build).toMatch(/^\.\/configure --no-drivers --enable-ptnetmap$/m);
    expect(build).toContain("modprobe netmap ptnet_vnet_hdr=0");
    expect(build).toContain('"linux-headers-$(uname -r)"');
    expect(doc.runcmd).toEqual([["/usr/local/sbin/netmap-testbed-guest-netmap"]]);
    const meta = fs.readFileSync(path.join(emit, "meta-data"), "utf8");
    expect(meta).toBe(`instance-id: ${String(r.json.instanceId)}\nlocal-hostname: vm1\n`);

    // Same inputs: nothing rewritten.
    const again = seed(["--out", out, "--hostname", "vm1", "--ssh-key", key, ...netmapArgs]);
    expect(again.json).toMatchObject({ changed: false, instanceId: r.json.instanceId });
  });

  (have("genisoimage") && have("isoinfo") ? it : it.skip)(
    "ISO seed: volume cidata holding the same user-data",
    () => {
      const out = path.join(dir, "seed.iso");
      const emit = path.join(dir, "emit");
      const r = seed([
        "--out",
        out,
        "--hostname",
        "vm2",
        "--ssh-key",
        key,
        "--format",
        "iso",
        "--emit-dir",
        emit,
      ]);
      expect(r.status).toBe(0);
      expect(r.json.format).toBe("iso");
      const info = spawnSync("isoinfo", ["-d", "-i", out], { encoding: "utf8" }).stdout;
      expect(info).toMatch(/Volume id: cidata/);
      const ud = spawnSync("isoinfo", ["-J", "-x", "/user-data", "-i", out], { encoding: "utf8" }).stdout;
      expect(ud).toBe(fs.readFileSync(path.join(emit, "user-data"), "utf8"));
      expect(ud).not.toContain("netmap-testbed-guest-netmap"); // no netmap source given
    },
  );

  (have("mkfs.vfat") && have("mcopy") ? it : it.skip)(
    "vfat seed: label CIDATA holding user-data and meta-data",
    () => {
      const out = path.join(dir, "seed.vfat");
      const emit = path.join(dir, "emit");
      const r = seed([
        "--out",
        out,
        "--hostname",
        "vm3",
        "--ssh-key",
        key,
        "--format",
        "vfat",
        "--emit-dir",
        emit,
      ]);
      expect(r.status).toBe(0);
      const ud = spawnSync("mcopy", ["-i", out, "::user-data", "-"], { encoding: "utf8" }).stdout;
      expect(ud).toBe(fs.readFileSync(path.join(emit, "user-data"), "utf8"));
      const label = spawnSync("mlabel", ["-i", out, "-s", "::"], { encoding: "utf8" }).stdout;
      expect(label).toMatch(/CIDATA/);
    },
  );

  it("adds --user-data-extra as a second MIME part", () => {
    const extra = path.join(dir, "extra.sh");
    fs.writeFileSync(extra, "#!/bin/sh\necho hello > /root/hello\n");
    const emit = path.join(dir, "emit");
    const r = seed([
      "--out",
      path.join(dir, "s.img"),
      "--hostname",
      "vm4",
      "--ssh-key",
      key,
      "--user-data-extra",
      extra,
      "--emit-dir",
      emit,
    ]);
    expect(r.status).toBe(0);
    const ud = fs.readFileSync(path.join(emit, "user-data"), "utf8");
    expect(ud).toMatch(/^Content-Type: multipart\/mixed; boundary="==NETMAP-TESTBED=="/);
    const parts = ud.split("--==NETMAP-TESTBED==");
    expect(parts).toHaveLength(4);
    expect(parts[1]).toMatch(/Content-Type: text\/cloud-config[\s\S]*#cloud-config\nhostname: vm4/);
    expect(parts[2]).toMatch(/Content-Type: text\/x-shellscript[\s\S]*echo hello > \/root\/hello/);
    expect(parts[3].trim()).toBe("--");
  });

  it.each([
    [["--hostname", "VM_1"], /invalid --hostname/],
    [["--ssh-key", "ssh-ed25519 AAAA\nevil"], /invalid --ssh-key/],
    [["--ssh-key", 'ssh-ed25519 AAAA "quoted"'], /invalid --ssh-key/],
    [["--netmap-source-git", "https://x/y';reboot;'"], /invalid --netmap-source-git|go together/],
  ])("rejects unsafe input %j", (override, message) => {
    const args: Record<string, string> = {
      "--out": path.join(dir, "s.img"),
      "--hostname": "vm",
      "--ssh-key": key,
    };
    for (let i = 0; i < override.length; i += 2) args[override[i]] = override[i + 1];
    const r = seed(Object.entries(args).flat());
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(path.join(dir, "s.img"))).toBe(false);
  });
});
