/**
 * Building a remote command line from an argument vector.
 *
 * SSH carries one command string that the remote login shell parses, so every
 * value is quoted here and nothing is ever interpolated into a shell string.
 * The quoting is POSIX single-quote quoting: it is correct for sh, dash, bash
 * and zsh login shells (not for csh/fish, which the host session does not support).
 */

/** Characters that never need quoting in a POSIX shell word. `=` is left out on purpose (assignments). */
const SAFE_WORD = /^[A-Za-z0-9_@%+:,./-]+$/;

/** Environment variable names the host session accepts. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Thrown when an argv or env value cannot be passed safely to a remote command. */
export class CommandValidationError extends Error {
  override readonly name = "CommandValidationError";
}

/** Quotes one word for a POSIX shell so that it reaches the program byte-exact. */
export function shellQuote(word: string): string {
  if (word.length > 0 && SAFE_WORD.test(word)) {
    return word;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Checks an argument vector: at least one element, a non-empty program, no NUL bytes (argv cannot carry them). */
export function validateArgv(argv: readonly string[]): void {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new CommandValidationError("argv must contain at least the program to run");
  }
  argv.forEach((arg, index) => {
    if (typeof arg !== "string") {
      throw new CommandValidationError(`argv[${index}] must be a string, got ${typeof arg}`);
    }
    if (arg.includes("\0")) {
      throw new CommandValidationError(
        `argv[${index}] contains a NUL byte, which a command line cannot carry`,
      );
    }
  });
  if (argv[0] === "") {
    throw new CommandValidationError("argv[0] (the program) must not be empty");
  }
}

/** Checks environment variables: names match `[A-Za-z_][A-Za-z0-9_]*`, values contain no NUL byte. */
export function validateEnv(env: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) {
      throw new CommandValidationError(
        `environment variable name ${JSON.stringify(name)} is invalid; use letters, digits and _ (not starting with a digit)`,
      );
    }
    if (typeof value !== "string") {
      throw new CommandValidationError(`environment variable ${name} must be a string, got ${typeof value}`);
    }
    if (value.includes("\0")) {
      throw new CommandValidationError(`environment variable ${name} contains a NUL byte`);
    }
  }
}

/** How {@link buildRemoteCommand} wraps the argv. */
export interface RemoteCommandOptions {
  /** Environment passed as an `env NAME=value …` prefix (not through SSH's AcceptEnv). Defaults to none. */
  env?: Readonly<Record<string, string>>;
  /** Prefix the command with `sudo -n --` (non-interactive: fails instead of prompting). Defaults to false. */
  sudo?: boolean;
}

/**
 * Turns a validated argv (plus environment and sudo) into the single command string sent over SSH.
 * Every word is quoted by {@link shellQuote}; user values never become shell syntax.
 */
export function buildRemoteCommand(argv: readonly string[], options: RemoteCommandOptions = {}): string {
  validateArgv(argv);
  const env = options.env ?? {};
  validateEnv(env);
  const words: string[] = [];
  if (options.sudo) {
    words.push("sudo", "-n", "--");
  }
  const names = Object.keys(env);
  if (names.length > 0) {
    if (argv[0].includes("=")) {
      // `env` would read such a program name as one more assignment.
      throw new CommandValidationError(
        `argv[0] ${JSON.stringify(argv[0])} contains "=", which env(1) would take for an assignment`,
      );
    }
    words.push("env");
    for (const name of names) {
      words.push(`${name}=${shellQuote(env[name])}`);
    }
  }
  for (const arg of argv) {
    words.push(shellQuote(arg));
  }
  return words.join(" ");
}
