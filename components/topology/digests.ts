/** Image digests: their form, and where the real value comes from. */
import type { DigestAlgorithm } from "./model";

/** In the order a topology author should prefer them: Debian, for one, publishes only SHA512SUMS. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["sha512", "sha256"];

export const DIGEST_HEX_DIGITS: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** The fix: where the real value comes from. */
export function whereToGetDigest(algorithm: DigestAlgorithm): string {
  const other =
    algorithm === "sha256"
      ? " (if the publisher gives SHA512SUMS, as Debian does, write sha512: instead)"
      : "";
  return (
    `from the ${algorithm.toUpperCase()}SUMS published beside the image or \`${algorithm}sum IMAGE\` ` +
    `of a copy you have verified${other}`
  );
}

/** Checks a digest's form; accepts upper-case hex. */
export function checkDigest(algorithm: DigestAlgorithm, hex: string): string | undefined {
  const digits = DIGEST_HEX_DIGITS[algorithm];
  const form = `${algorithm} must be ${digits} hexadecimal digits (the output of \`${algorithm}sum IMAGE\`)`;
  if (hex.length !== digits) return `${form}, got ${hex.length} characters`;
  const stray = /[^0-9a-fA-F]/.exec(hex);
  if (stray) return `${form}, got "${stray[0]}" at character ${stray.index + 1}`;
  return undefined;
}
