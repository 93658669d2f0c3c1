import { listObjects, removeObjects } from '../objects/objects.js'
import type { XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { VERSION } from '../version.js'
import { info, objectNames, parseDefArgs, SUPPORTED_TYPES, USAGE } from './args.js'

/** rmdef: removes object definitions (every row that stores them; a group is also taken out of its members' groups). */
export async function rmdef(req: XcatRequest, ctx: PluginContext): Promise<void> {
  const argv = req.arg ?? []
  if (argv.length === 0) return ctx.respond(usageResponse(USAGE.rmdef))
  const args = parseDefArgs(argv)
  if (!('opts' in args)) return ctx.respond({ error: ['Invalid option..'], errorcode: ['1'], data: [...USAGE.rmdef] })
  const { opts } = args
  if (opts.version) return ctx.respond(info([`rmdef - Version ${VERSION}`]))
  if (opts.help) return ctx.respond(usageResponse(USAGE.rmdef))
  if (opts.w) return ctx.respond({ info: ["The '-w' option is not supported for the rmdef command."], errorcode: ['1'] })
  if (['dynamic', 'i', 'long', 'm', 'p', 'x', 'z', 'short'].some((o) => opts[o] !== undefined)) {
    return ctx.respond({ error: ['Invalid flag specified, see rmdef manpage for details.'], errorcode: ['1'], data: [...USAGE.rmdef] })
  }
  if (opts.all && !opts.f) return ctx.respond({ error: ["You must use the '-f' option when using the '-a' option."], errorcode: ['1'], data: [...USAGE.rmdef] })
  for (const p of args.problems) ctx.respond(p)
  if (args.problems.length) return
  if (args.unknownTypes.length) return ctx.respond(errorResponse(args.unknownTypes.map((t) => `\nType '${t}' is not a valid xCAT object type.`)))
  const types = opts.all ? SUPPORTED_TYPES.filter((t) => t !== 'site') : args.types.length ? args.types : ['node' as const]
  if (!opts.all && opts.o === undefined && args.operand === undefined && !types.includes('site')) {
    return ctx.respond({ error: ['No object names were provided.'], errorcode: ['1'], data: [...USAGE.rmdef] })
  }
  let removed = 0
  let failed = false
  for (const type of types) {
    const { names } = await objectNames(ctx.tables, type, args)
    const existing = new Set(await listObjects(ctx.tables, type))
    for (const n of names.filter((x) => !existing.has(x))) {
      ctx.respond(errorResponse(`Could not find an object named '${n}' of type '${type}'.`))
      failed = true
    }
    const present = names.filter((n) => existing.has(n))
    if (present.length === 0) continue
    await removeObjects(ctx.tables, type, present)
    removed += present.length
  }
  if (removed > 0) ctx.respond(info([`${removed} object definitions have been removed.`]))
  else ctx.respond(info(['No objects have been removed from the xCAT database.']))
  if (failed) ctx.respond({ errorcode: ['1'] })
}
