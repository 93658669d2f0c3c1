import { basename } from 'node:path'
import { CLIENT_COMMANDS } from './commands.js'
import { PROCESS_OUTPUT, pipedStdin, runClientCommand, type CommandIo } from './main.js'
import { chtab, tabrestoreClient, xcatconfig } from './own-clients.js'

/** Runs command `name` (the executable's name) with `argv`; resolves to the exit code. */
export async function runNamedCommand(name: string, argv: readonly string[], io: CommandIo): Promise<number> {
  if (name === 'xcatclient' || name === 'xcatclientnnr') {
    const [command, ...rest] = argv
    if (command === undefined) {
      io.out.stderr(`Usage: ${name} <command> [arguments]\n`)
      return 1
    }
    return runClientCommand(command, name === 'xcatclient' ? 'noderange' : 'nnr', rest, io)
  }
  if (name === 'tabrestore') return tabrestoreClient(argv, io)
  if (name === 'chtab') return chtab(argv, io)
  if (name === 'xcatconfig') return xcatconfig(argv, io)
  const kind = CLIENT_COMMANDS[name]
  if (kind === undefined) {
    io.out.stderr(`Error: ${name} is not an xCAT command\n`)
    return 1
  }
  return runClientCommand(name, kind, argv, io)
}

/** Entry point of every bin/ executable: runs `name` with the process's arguments and sets the exit code. */
export async function main(name: string = basename(process.argv[1] ?? '')): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
  const stdin = name === 'tabrestore' || name === 'chtab' || name === 'xcatconfig' || name === 'xcatd' ? undefined : await pipedStdin()
  const abort = new AbortController()
  const interrupt = () => {
    abort.abort()
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  const io: CommandIo = { env: process.env, cwd: process.cwd(), out: PROCESS_OUTPUT, signal: abort.signal, ...(stdin === undefined ? {} : { stdin }) }
  process.exitCode = await runNamedCommand(name, process.argv.slice(2), io)
}
