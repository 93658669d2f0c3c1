import { getopt, GetoptError } from '../getopt.js'
import type { XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { VERSION } from '../version.js'
import { applyAssignments, deleteRows, parseAssignments, parseKeyPairs, TableChangeError } from './table-change.js'

const USAGE = [
  'Usage: tabch',
  '       To add or update rows for tables:',
  '       tabch keycolname=keyvalue[,keycolname=keyvalue...] tablename.colname=newvalue [tablename.colname=newvalue...]',
  '       To delete rows from tables:',
  '       tabch -d|--delete keycolname=keyvalue[,keycolname=keyvalue...] tablename [tablename...]',
  '         keycolname=keyvalue   a column name-and-value pair ',
  '         that identifies the rows in a table to be changed.',
  '         tablename.colname=newvalue ',
  '         the new value for the specified row and column of the table.',
  '       tabch [-h|--help]',
  '       tabch [-v|--version]',
]

/** tabch: chtab through the daemon, under the policy table. */
export async function tabch(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['d|delete', 'h|help', 'v|version'])
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(USAGE, 1))
    throw err
  }
  const { opts, args } = parsed
  if (opts.h) return ctx.respond(usageResponse(USAGE))
  if (opts.v) return ctx.respond({ data: [`tabch :Version ${VERSION}`] })
  const [target, ...rest] = args
  if (target === undefined) return ctx.respond(usageResponse(USAGE, 1))
  try {
    const keys = parseKeyPairs(target)
    if (opts.d) {
      if (rest.length === 0) return ctx.respond({ data: ['Missing table name.\n', 'Check man tabch or tabch -h\n'], errorcode: ['1'] })
      const unknown = await deleteRows(ctx.tables, keys, rest)
      for (const t of unknown) ctx.respond({ data: [`Table ${t} does not exist.`], errorcode: ['1'] })
      return
    }
    await applyAssignments(ctx.tables, keys, parseAssignments(rest, keys))
  } catch (err) {
    if (!(err instanceof TableChangeError)) throw err
    if (err.message.startsWith('Incorrect argument')) return ctx.respond({ data: [`${err.message}\n`, 'Check man tabch or tabch -h\n'], errorcode: ['1'] })
    return ctx.respond(errorResponse(err.message))
  }
}
