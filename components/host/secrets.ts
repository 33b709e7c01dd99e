/**
 * Keeping secrets (private keys, passphrases, passwords) out of every message
 * the host session produces: errors, log lines and anything thrown.
 */

/** Placeholder written where a secret was found. */
export const REDACTED = "[REDACTED]";

/** Shortest fragment of a secret that is searched for on its own (lines of a PEM key, say). */
const MIN_FRAGMENT = 8;

/** Replaces every known secret (and every long line of a multi-line secret) in a text with {@link REDACTED}. */
export class SecretScrubber {
  readonly #needles: string[];

  constructor(secrets: ReadonlyArray<string | undefined>) {
    const needles = new Set<string>();
    for (const secret of secrets) {
      if (!secret) {
        continue;
      }
      needles.add(secret);
      const trimmed = secret.trim();
      if (trimmed.length > 0) {
        needles.add(trimmed);
      }
      // A key may surface one line at a time (e.g. a parser quoting the line it choked on).
      for (const line of secret.split(/\r?\n/)) {
        const body = line.trim();
        if (body.length >= MIN_FRAGMENT && !/^-----(BEGIN|END) /.test(body)) {
          needles.add(body);
        }
      }
    }
    // Longest first, so a whole key is replaced before its lines are.
    this.#needles = [...needles].sort((a, b) => b.length - a.length);
  }

  /** Returns the text with every secret replaced. */
  scrub(text: string): string {
    let result = text;
    for (const needle of this.#needles) {
      if (result.includes(needle)) {
        result = result.split(needle).join(REDACTED);
      }
    }
    return result;
  }

  /** True when the text still contains a secret (used by tests and as a last guard). */
  contains(text: string): boolean {
    return this.#needles.some((needle) => text.includes(needle));
  }
}
