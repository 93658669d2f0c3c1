import { runNamedCommand } from '../../lib/client/cli.js'

/** What one command run printed and returned. */
export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs an xCAT command in-process (XCATBYPASS) against the database at `location`, capturing its output. */
export async function runCommand(location: string, name: string, argv: readonly string[], options: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  let stdout = ''
  let stderr = ''
  const code = await runNamedCommand(name, argv, {
    env: { XCATBYPASS: '1', XCATCFG: location, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    out: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  })
  return { code, stdout, stderr }
}
