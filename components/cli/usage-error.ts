/**
 * A usage error as one line: what was wrong, then the command's short synopsis and where the
 * options are listed. One line, so it is the first thing seen and greps and scripts see it whole.
 */
export function usageError(command: string, problem: string, synopsis: string): string {
  return `netmap-testbed ${command}: ${problem}; usage: netmap-testbed ${synopsis} (netmap-testbed ${command} --help lists the options)`;
}

/** Exit status of a usage error (how the command was called). */
export const EXIT_USAGE = 2;
/** Exit status of invalid input (a file or setting the command was given is wrong). */
export const EXIT_INVALID = 1;
