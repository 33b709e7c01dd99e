/** Image digests: their form, and the placeholders that look like one but pin nothing. */
import type { DigestAlgorithm } from "./model";

/** In the order a topology author should prefer them: Debian, for one, publishes only SHA512SUMS. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ["sha512", "sha256"];

export const DIGEST_HEX_DIGITS: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/**
 * Digests of an empty file: what `sha256sum`/`sha512sum` print after a download that silently
 * wrote nothing, so pinning one is always a mistake.
 */
const EMPTY_FILE: Readonly<Record<DigestAlgorithm, string>> = {
  sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  sha512:
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" +
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
};

/**
 * More than this many of one digit in a row is a placeholder's padding ("0000…0000deadbeef"): in
 * a real digest such a run starts at a given position with a chance of 16^-15.
 */
const LONGEST_REAL_RUN = 15;

/** Smallest p such that every character equals the one p before it (the text's period). */
function period(text: string): number {
  for (let p = 1; p < text.length; p++) {
    let repeats = true;
    for (let i = p; i < text.length && repeats; i++) repeats = text[i] === text[i - p];
    if (repeats) return p;
  }
  return text.length;
}

/** The longest run of one character: its length and the character. */
function longestRun(text: string): { readonly length: number; readonly char: string } {
  let longest = { length: 0, char: "" };
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    run = i > 0 && text[i] === text[i - 1] ? run + 1 : 1;
    if (run > longest.length) longest = { length: run, char: text[i] };
  }
  return longest;
}

/**
 * Why a well-formed digest cannot be a real image's, or undefined when it can. Placeholders are
 * one digit repeated (000…, fff…), a short pattern repeated (deadbeef…, 0123456789abcdef…: any
 * text made of at least two copies of its start), a long run of one digit, or the digest of an
 * empty file. Hash outputs look random, so a real digest matches none of these in practice.
 */
export function placeholderReason(algorithm: DigestAlgorithm, hex: string): string | undefined {
  const digits = hex.toLowerCase();
  const p = period(digits);
  if (p === 1) return `one digit repeated`;
  if (p <= digits.length / 2) return `"${digits.slice(0, p)}" repeated`;
  const run = longestRun(digits);
  if (run.length > LONGEST_REAL_RUN) return `${run.length} × "${run.char}" in a row`;
  if (digits === EMPTY_FILE[algorithm]) return `the ${algorithm} of an empty file`;
  return undefined;
}

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

/** Checks a digest's form and that it is no placeholder; accepts upper-case hex. */
export function checkDigest(algorithm: DigestAlgorithm, hex: string): string | undefined {
  const digits = DIGEST_HEX_DIGITS[algorithm];
  const form = `${algorithm} must be ${digits} hexadecimal digits (the output of \`${algorithm}sum IMAGE\`)`;
  if (hex.length !== digits) return `${form}, got ${hex.length} characters`;
  const stray = /[^0-9a-fA-F]/.exec(hex);
  if (stray) return `${form}, got "${stray[0]}" at character ${stray.index + 1}`;
  const reason = placeholderReason(algorithm, hex);
  if (reason === undefined) return undefined;
  const shown = `${hex.slice(0, 12).toLowerCase()}…`;
  return (
    `${algorithm} "${shown}" is a placeholder (${reason}), not an image's digest; ` +
    `put the image's real ${algorithm} here, ${whereToGetDigest(algorithm)}`
  );
}
