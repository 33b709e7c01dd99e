import { createHash } from "node:crypto";
import { checkDigest } from "./digests";
import type { DigestAlgorithm } from "./model";
import { TEST_SHA256, TEST_SHA512 } from "./test-digests";

const digestOf = (algorithm: DigestAlgorithm, data: Buffer | string): string =>
  createHash(algorithm).update(data).digest("hex");

describe("image digests", () => {
  it("accept real digests, in either case", () => {
    expect(checkDigest("sha256", TEST_SHA256)).toBeUndefined();
    expect(checkDigest("sha512", TEST_SHA512)).toBeUndefined();
    expect(checkDigest("sha512", TEST_SHA512.toUpperCase())).toBeUndefined();
    expect(TEST_SHA256).toBe(digestOf("sha256", "netmap-testbed test image"));
    expect(TEST_SHA512).toBe(digestOf("sha512", "netmap-testbed test image"));
  });

  it("check the length and the digits, naming the tool that prints the value", () => {
    expect(checkDigest("sha256", "ab".repeat(31))).toBe(
      "sha256 must be 64 hexadecimal digits (the output of `sha256sum IMAGE`), got 62 characters",
    );
    expect(checkDigest("sha512", TEST_SHA256)).toContain(
      "sha512 must be 128 hexadecimal digits (the output of `sha512sum IMAGE`), got 64 characters",
    );
    expect(checkDigest("sha256", `${TEST_SHA256.slice(0, 63)}z`)).toContain('got "z" at character 64');
  });
});
