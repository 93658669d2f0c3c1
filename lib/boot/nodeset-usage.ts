import { getopt, GetoptError } from '../getopt.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import { versionString } from '../version.js'

/** xCAT's nodeset usage text. */
export const NODESET_USAGE = `Usage:
   Common:
      nodeset [-h|--help|-v|--version]
      nodeset <noderange> [shell|boot|runcmd=bmcsetup|osimage[=<imagename>]|offline|shutdown|stat [-a]]`

/** What a nodeset request's arguments say before any node is touched: a reply to send instead, or the state to set. */
export type NodesetArgs = { reply: XcatResponse } | { state: string; all: boolean }

/** The boot plugins' preprocess_request checks: -h, -v, exactly one state argument, -a only with stat. */
export function parseNodesetArgs(req: XcatRequest): NodesetArgs {
  const argv = (req.arg ?? []).map(String)
  let parsed
  try {
    parsed = getopt(argv, ['h|?|help', 'v|version', 'a', 'V'], { passThrough: true })
  } catch (err) {
    if (!(err instanceof GetoptError)) throw err
    return { reply: { data: [NODESET_USAGE] } }
  }
  const { opts, args } = parsed
  if (opts.h) return { reply: { data: [NODESET_USAGE] } }
  if (opts.v) return { reply: { data: [versionString()] } }
  const states = args.filter((a) => a && !/^--?\S+/.test(a))
  if (states.length !== 1) return { reply: { error: [`Invalid argument: '${args.join(' ')}'`], data: [NODESET_USAGE], errorcode: ['1'] } }
  const state = states[0] ?? ''
  if (state !== 'stat' && opts.a) return { reply: { error: ["'-a' could only be used with 'stat' subcommand."], errorcode: ['1'] } }
  return { state, all: Boolean(opts.a) }
}
