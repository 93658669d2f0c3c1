import { homedir } from 'node:os'
import { join } from 'node:path'
import { XcatError } from '../errors.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import { runInProcess } from './in-process.js'
import { ExitCode, printResponse, type Output } from './print.js'
import { buildRequest, type ClientKind } from './request.js'
import { clientCredentials, parseXcatHost, PrematureEndError, submitRequest } from './tls-client.js'

/** The process streams as an {@link Output}. */
export const PROCESS_OUTPUT: Output = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
}

/** What a command run needs from its surroundings (tests pass their own). */
export interface CommandIo {
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
  readonly out: Output
  readonly stdin?: string
  /** Aborting it sends abortcommand to xcatd (the client's Ctrl-C). */
  readonly signal?: AbortSignal
}

/** How long a client waits for piped input to start, as xCAT's client does when no terminal is attached. */
const STDIN_WAIT_MS = 1000

/**
 * Standard input when it is not a terminal (xcatclient sends it as `<stdin>`): read to its end once data starts
 * flowing; undefined when nothing arrives within a second, so an idle inherited pipe never hangs a command.
 */
export async function pipedStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined
  const stdin = process.stdin
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let started = false
    const finish = (value: string | undefined) => {
      clearTimeout(timer)
      stdin.removeAllListeners('data').removeAllListeners('end').removeAllListeners('error')
      stdin.pause()
      stdin.unref?.()
      resolve(value)
    }
    const timer = setTimeout(() => {
      if (!started) finish(undefined)
    }, STDIN_WAIT_MS)
    stdin.on('data', (chunk: Buffer) => {
      started = true
      chunks.push(chunk)
    })
    stdin.on('end', () => finish(Buffer.concat(chunks).toString('utf8')))
    stdin.on('error', () => finish(undefined))
  })
}

/** Sends `request` to xcatd (XCATHOST, default localhost:3001) with the credentials in ~/.xcat, or in-process with XCATBYPASS. */
async function deliver(request: XcatRequest, io: CommandIo, onResponse: (r: XcatResponse) => void): Promise<void> {
  if (io.env.XCATBYPASS) return runInProcess(request, onResponse, io.env)
  const { host, port } = parseXcatHost(io.env.XCATHOST)
  const creds = clientCredentials(io.env.HOME ?? homedir())
  if (creds.warning) {
    io.out.stdout(`warning: the client certificates under ${join(io.env.HOME ?? homedir(), '.xcat')}/ are not setup correctly; the SSL connection between xcat client and xcatd will be setup without certificate verification and open to Man-In-The-Middle attacks.\n`)
  }
  try {
    await submitRequest({ host, port, ...(creds.key ? { key: creds.key, cert: creds.cert, ca: creds.ca } : {}) }, request, onResponse, io.signal)
  } catch (err) {
    if (err instanceof PrematureEndError) throw err
    io.out.stdout(`Unable to open socket connection to xcatd daemon on ${host}:${port}.\nVerify that the xcatd daemon is running and that your SSL setup is correct.\n`)
    throw new XcatError('XCAT_ERR_BAD_ARGUMENT', `Connection failure: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Submits `request` and prints every response as xCAT's client does; returns the exit code. */
export async function submitAndPrint(request: XcatRequest, io: CommandIo): Promise<number> {
  const exit = new ExitCode()
  const print = (r: XcatResponse) => printResponse(r, io.out, exit, io.env)
  try {
    await deliver(request, io, print)
  } catch (err) {
    if (err instanceof PrematureEndError) {
      io.out.stderr(`ERROR/WARNING: ${err.message}\n`)
      return 1
    }
    io.out.stderr(`${err instanceof XcatError && err.message.startsWith('Connection failure') ? '' : 'Error: '}${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
  return exit.value & 0xff
}

/** Runs client command `command` with `argv`, packed as xcatclient (`noderange`) or xcatclientnnr (`nnr`) would. */
export async function runClientCommand(command: string, kind: ClientKind, argv: readonly string[], io: CommandIo): Promise<number> {
  const request = buildRequest(command, argv, kind, io.stdin === undefined ? { cwd: io.cwd, env: io.env } : { cwd: io.cwd, env: io.env, stdin: io.stdin })
  // xcatclient prints the server name before each message when -V is among the arguments.
  const verbose = (request.arg ?? []).some((a) => a === '-V' || a === '--verbose')
  return submitAndPrint(request, verbose ? { ...io, env: { ...io.env, XCATSHOWSVR: '1' } } : io)
}
