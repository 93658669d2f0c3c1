import { isAbsolute, join } from 'node:path'
import type { XcatRequest } from '../protocol/types.js'

/**
 * How a client command packs its arguments: xcatclient (`noderange`) takes the first non-dash argument as the
 * noderange, xcatclientnnr (`nnr`) sends every argument as `arg`, xcatDBcmds (`dbcmd`) does too but makes `^file`
 * operands absolute.
 */
export type ClientKind = 'noderange' | 'nnr' | 'dbcmd'

/** What a request is built from besides the arguments. */
export interface RequestContext {
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /** Standard input, when it is a pipe or a file. */
  readonly stdin?: string
}

/** The `<environment>` element: every XCAT_* variable, as xcatclient sends it. */
export function xcatEnvironment(env: NodeJS.ProcessEnv): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(env)) if (k.startsWith('XCAT_') && v !== undefined) out[k] = [v]
  return out
}

/** Builds the request xcatclient / xcatclientnnr sends for `command argv...`. */
export function buildRequest(command: string, argv: readonly string[], kind: ClientKind, ctx: RequestContext): XcatRequest {
  const req: XcatRequest = { command: [command], clienttype: ['cli'], cwd: [ctx.cwd] }
  const absoluteFile = (range: string) => {
    const file = /^\^(.*)$/.exec(range)?.[1]
    return file !== undefined && !isAbsolute(file) ? `^${join(ctx.cwd, file)}` : range
  }
  const args: string[] = []
  let i = 0
  if (kind === 'noderange') {
    while (i < argv.length && (argv[i] ?? '').startsWith('-')) args.push(argv[i++] ?? '')
    if (i < argv.length) {
      req.noderange = [(argv[i++] ?? '').split(',').map(absoluteFile).join(',')]
    }
  }
  args.push(...argv.slice(i).map((a) => (kind === 'dbcmd' && !a.includes('=') && !a.startsWith('-') ? a.split(',').map(absoluteFile).join(',') : a)))
  if (args.length) req.arg = args
  const environment = xcatEnvironment(ctx.env)
  if (kind !== 'dbcmd' && Object.keys(environment).length) req.environment = [environment]
  if (ctx.stdin !== undefined) req.stdin = [ctx.stdin]
  return req
}
