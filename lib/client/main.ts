import { readFileSync, fstatSync } from 'node:fs'
import { XcatError } from '../errors.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import { runInProcess } from './in-process.js'
import { ExitCode, printResponse, type Output } from './print.js'
import { buildRequest, type ClientKind } from './request.js'

/** The process streams as an {@link Output}. */
export const PROCESS_OUTPUT: Output = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
}

/** What a command run needs from its surroundings (tests pass their own). */
export interface CommandIo {
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
  readonly out: Output
  readonly stdin?: string
}

/** Standard input when it is a pipe or a regular file (xcatclient sends it as `<stdin>`). */
export function pipedStdin(): string | undefined {
  try {
    const st = fstatSync(0)
    return st.isFIFO() || st.isFile() ? readFileSync(0, 'utf8') : undefined
  } catch {
    return undefined
  }
}

/** Submits `request` (in-process with XCATBYPASS) and prints every response as xCAT's client does; returns the exit code. */
export async function submitAndPrint(request: XcatRequest, io: CommandIo): Promise<number> {
  const exit = new ExitCode()
  const print = (r: XcatResponse) => printResponse(r, io.out, exit, io.env)
  try {
    if (io.env.XCATBYPASS) {
      await runInProcess(request, print, io.env)
    } else {
      throw new XcatError('XCAT_ERR_BAD_ARGUMENT', 'Unable to reach xcatd: set XCATBYPASS=1 to run commands in this process')
    }
  } catch (err) {
    io.out.stderr(`Error: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  return exit.value & 0xff
}

/** Runs client command `command` with `argv`, packed as xcatclient (`noderange`) or xcatclientnnr (`nnr`) would. */
export async function runClientCommand(command: string, kind: ClientKind, argv: readonly string[], io: CommandIo): Promise<number> {
  const request = buildRequest(command, argv, kind, io.stdin === undefined ? { cwd: io.cwd, env: io.env } : { cwd: io.cwd, env: io.env, stdin: io.stdin })
  return submitAndPrint(request, io)
}
