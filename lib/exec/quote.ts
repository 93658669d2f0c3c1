/**
 * Quotes one argument for a POSIX shell: the only place where a command line is built from values, for the remote
 * shell that SSH always goes through. Everything is single-quoted; a single quote becomes '\''.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

/** A command line for a remote POSIX shell from an argument array: nothing in it is re-parsed. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command')
  return argv.map(shellQuote).join(' ')
}
