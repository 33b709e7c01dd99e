/** Shell quoting for display (plan output, logs); commands themselves run from argv, never through this. */

const SAFE_WORD = /^[A-Za-z0-9_\-.,:/=@%+]+$/;

export function shellQuote(arg: string): string {
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellQuoteArgv(args: readonly string[]): string {
  return args.map(shellQuote).join(" ");
}
