import { createHash } from "node:crypto";
import fc from "fast-check";
import { checkDigest, placeholderReason } from "./digests";
import type { DigestAlgorithm } from "./model";
import { TEST_SHA256, TEST_SHA512 } from "../../test/support/test-digests";

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

  it("never call a real digest a placeholder", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (bytes) => {
        const data = Buffer.from(bytes);
        expect(placeholderReason("sha256", digestOf("sha256", data))).toBeUndefined();
        expect(placeholderReason("sha512", digestOf("sha512", data))).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
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

  it.each([
    ["sha256", "0".repeat(64), "one digit repeated"],
    ["sha512", "0".repeat(128), "one digit repeated"],
    ["sha512", "f".repeat(128), "one digit repeated"],
    ["sha256", "A".repeat(64), "one digit repeated"],
    ["sha256", "deadbeef".repeat(8), '"deadbeef" repeated'],
    ["sha512", "0123456789abcdef".repeat(8), '"0123456789abcdef" repeated'],
    ["sha256", "0123456789".repeat(7).slice(0, 64), '"0123456789" repeated'],
    ["sha256", TEST_SHA256.slice(0, 32).repeat(2), "repeated"],
    ["sha256", `${"0".repeat(56)}deadbeef`, '56 × "0" in a row'],
    ["sha512", `cafe${"0".repeat(124)}`, '124 × "0" in a row'],
    ["sha256", digestOf("sha256", ""), "the sha256 of an empty file"],
    ["sha512", digestOf("sha512", ""), "the sha512 of an empty file"],
  ] as const)("reject the %s placeholder %s (%s), saying what to put there", (algorithm, hex, reason) => {
    const message = checkDigest(algorithm, hex);
    expect(message).toContain(`${algorithm} "${hex.slice(0, 12).toLowerCase()}…" is a placeholder (`);
    expect(message).toContain(reason);
    expect(message).toContain(`put the image's real ${algorithm} here`);
    expect(message).toContain(`from the ${algorithm.toUpperCase()}SUMS published beside the image`);
    expect(message).toContain(`\`${algorithm}sum IMAGE\``);
  });
});
