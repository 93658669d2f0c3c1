import { OBJECT_TYPES, type ObjectType } from '../objects/defs.js'
import { getObjectDefs, listObjects, type ObjectAttrs } from '../objects/objects.js'
import type { XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { columnDescriptions } from '../table/schema.js'
import type { Tables } from '../table/tables.js'
import { VERSION } from '../version.js'
import { info, objectNames, parseDefArgs, USAGE, type DefArgs } from './args.js'
import { parseWhereList, type AttrFilter } from './where.js'

/** Attribute names of `type` lsdef can show, sorted (the object key is never shown). */
export function attrNames(type: ObjectType): string[] {
  const def = OBJECT_TYPES[type]
  return [...new Set(def.attrs.map((a) => a.attr))].filter((a) => a !== def.key).sort()
}

/** `lsdef -h -t type`: each attribute with the description of the column that stores it. */
export function attributeHelp(type: ObjectType, only: readonly string[] | undefined): string[] {
  const def = OBJECT_TYPES[type]
  const entries = new Map<string, string>()
  for (const a of def.attrs) {
    if (a.attr === def.key || entries.has(a.attr) || (only && !only.includes(a.attr))) continue
    entries.set(a.attr, `${a.attr}:${a.attr.length < 7 ? '\t\t' : '\t'}${columnDescriptions(a.table)[a.col] ?? ''}\n\n`)
  }
  const body = [...entries.values()].sort().join('').replace(/\n\n$/, '')
  return [`The valid attribute names for object type '${type}' are:`, 'Attribute          Description\n', body]
}

/** Node postscripts as lsdef shows them: the xcatdefaults lists first, then the node's own. */
async function withDefaultPostscripts(tables: Tables, defs: Map<string, ObjectAttrs>): Promise<void> {
  const defaults = await tables.getAttribs('postscripts', { node: 'xcatdefaults' })
  for (const attrs of defs.values()) {
    for (const col of ['postscripts', 'postbootscripts'] as const) {
      const d = defaults?.[col]
      if (d) attrs[col] = attrs[col] ? `${d},${attrs[col]}` : d
    }
  }
}

function matches(attrs: ObjectAttrs, name: string, filters: readonly AttrFilter[]): boolean {
  return filters.every((f) => {
    const v = f.attr === 'node' ? name : attrs[f.attr]
    return v !== undefined && f.test(v)
  })
}

/** lsdef: lists object definitions, short (`name  (type)`), long, stanza (-z), selected attributes (-i) or filtered (-w). */
export async function lsdef(req: XcatRequest, ctx: PluginContext): Promise<void> {
  const argv = req.arg ?? []
  const parsed = parseDefArgs(argv.length === 0 ? ['-t', 'node', '-s'] : argv)
  if (!('opts' in parsed)) return ctx.respond({ error: ['Invalid option..'], errorcode: ['1'], data: [...USAGE.lsdef] })
  const args: DefArgs = parsed
  const { opts } = args
  if (opts.version) return ctx.respond(info([`lsdef - Version ${VERSION}`]))
  if (opts.help && !opts.t) return ctx.respond(usageResponse(USAGE.lsdef))
  for (const p of args.problems) ctx.respond(p)
  if (args.problems.length) return
  if (args.unknownTypes.length) return ctx.respond(errorResponse(args.unknownTypes.map((t) => `\nType '${t}' is not a valid xCAT object type.`)))
  if (opts.long && opts.short) return ctx.respond({ error: ["The flags '-l' and '-s' cannot be used together."], errorcode: ['1'], data: [...USAGE.lsdef] })
  if (opts.all && opts.t) return ctx.respond({ error: ["The flags '-a' and '-t' cannot be used together."], errorcode: ['1'], data: [...USAGE.lsdef] })
  const only = typeof opts.i === 'string' ? opts.i.split(',').filter((a) => a !== '') : undefined
  const types: ObjectType[] = opts.all ? ['group', 'network', 'node', 'osimage', 'policy', 'site'] : args.types.length ? args.types : ['node']
  if (opts.help) {
    for (const t of types) ctx.respond(info(attributeHelp(t, only)))
    return
  }
  const filters = parseWhereList((opts.w as string[] | undefined) ?? [])
  if (typeof filters === 'string') return ctx.respond(errorResponse(filters))
  const named = args.operand !== undefined || opts.o !== undefined
  const long = !opts.short && (Boolean(opts.long) || named || only !== undefined || Boolean(opts.z))
  const stanza = Boolean(opts.z)
  const lines: string[] = stanza ? ['# <xCAT data object stanza file>'] : []
  let considered = 0
  let printed = 0
  let errors = false
  for (const type of types) {
    const { names, explicit } = await objectNames(ctx.tables, type, args)
    const existing = new Set(explicit ? await listObjects(ctx.tables, type) : names)
    for (const n of names.filter((x) => !existing.has(x))) {
      ctx.respond(errorResponse(`Could not find an object named '${n}' of type '${type}'.`))
      errors = true
    }
    let present = names.filter((n) => existing.has(n))
    considered += names.length
    if (only && type !== 'site') {
      const known = attrNames(type)
      const bad = only.filter((a) => !known.includes(a))
      if (bad.length) ctx.respond(errorResponse(bad.map((a) => `'${a}' is not a valid attribute name for an object type of '${type}'.`)))
    }
    const needAttrs = long || filters.length > 0 || (type === 'node' && !opts.S)
    const defs = needAttrs ? await getObjectDefs(ctx.tables, type, present) : new Map<string, ObjectAttrs>()
    if (type === 'node' && !stanza) await withDefaultPostscripts(ctx.tables, defs)
    if (type === 'node' && !opts.S) present = present.filter((n) => Number(defs.get(n)?.hidden ?? 0) !== 1)
    if (filters.length) present = present.filter((n) => matches(defs.get(n) ?? {}, n, filters))
    for (const name of present.sort()) {
      printed++
      const attrs = defs.get(name) ?? {}
      if (!long) {
        lines.push(stanza ? `\n${name}:` : opts.all ? `${name} (${type})` : `${name}  (${type})`)
        continue
      }
      if (stanza) lines.push(`\n${name}:`, `    objtype=${type}`)
      else if (!opts.compress || types.length > 1) lines.push(types.length > 1 ? `Object name: ${name}  (${type})` : `Object name: ${name}`)
      const shown = type === 'site' ? Object.keys(attrs).sort() : attrNames(type)
      for (const attr of shown) {
        if (only && !only.includes(attr)) continue
        const value = attrs[attr]
        if (value === undefined && !only && !(type === 'group' && attr === 'members' && attrs.grouptype !== 'dynamic')) continue
        if (type === 'site' && only && value === undefined) continue
        lines.push(opts.compress ? `${name}: ${attr}=${value ?? ''}` : `    ${attr}=${value ?? ''}`)
      }
    }
    if (!explicit && names.length === 0 && !filters.length) {
      ctx.respond(info(['Could not find any object definitions to display.']))
      return
    }
  }
  if (printed > 0) ctx.respond(info(lines))
  else if (considered > 0 || errors) ctx.respond(info(['No object definitions have been found']))
}
