import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  HostKeyFormatError,
  blobKeyType,
  describeKey,
  hostKeyAlgorithmsFor,
  parseOpenSshPublicKey,
  sha256Fingerprint,
} from "./host-key";

describe("host keys", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "nmtb-hostkey-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(["ed25519", "ecdsa", "rsa"])("parses a %s key and fingerprints it like ssh-keygen -l", (type) => {
    const file = path.join(dir, `key_${type}`);
    execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "some comment", "-f", file]);
    const line = readFileSync(`${file}.pub`, "utf8");
    const key = parseOpenSshPublicKey(line);
    expect(key.comment).toBe("some comment");
    expect(blobKeyType(key.blob)).toBe(key.type);
    const expected = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`], {
      encoding: "utf8",
    }).split(" ")[1];
    expect(sha256Fingerprint(key.blob)).toBe(expected);
    expect(describeKey(key.blob)).toBe(`${expected} (${key.type})`);
  });

  it("accepts ssh-keyscan output with the host field", () => {
    const key = parseOpenSshPublicKey(
      "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEf0M1q0Nq0ovA9lvI1aP5mMmvh0JHyXH8J8jW6Yw8uN",
    );
    expect(key.type).toBe("ssh-ed25519");
    expect(key.blob.length).toBe(51);
  });

  it.each([
    ["", /missing key type/],
    ["ssh-dss AAAAB3NzaC1kc3M=", /unsupported/],
    ["ssh-ed25519", /no valid base64/],
    ["ssh-ed25519 !!!", /no valid base64/],
    // the data of an RSA key under an ed25519 label
    ["ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB", /says "ssh-rsa" but the line says ssh-ed25519/],
  ])("rejects %j", (line, message) => {
    expect(() => parseOpenSshPublicKey(line)).toThrow(HostKeyFormatError);
    expect(() => parseOpenSshPublicKey(line)).toThrow(message);
  });

  it("offers only the pinned key type", () => {
    expect(hostKeyAlgorithmsFor("ssh-ed25519")).toEqual(["ssh-ed25519"]);
    expect(hostKeyAlgorithmsFor("ssh-rsa")).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    expect(() => hostKeyAlgorithmsFor("ssh-dss")).toThrow(HostKeyFormatError);
  });

  it("formats fingerprints without base64 padding", () => {
    expect(sha256Fingerprint(Buffer.from(""))).toBe("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
  });
});
