import { getopt, GetoptError } from '../getopt.js'
import { expandNoderange } from '../noderange.js'
import type { XcatRequest } from '../protocol/types.js'
import { NODE_KEYED_TABLES } from '../objects/objects.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { TABLES } from '../table/schema.js'
import { versionString } from '../version.js'
import { criterionTest, effectiveValues, parseCriterion, resolveColumn, type ColumnRef, type Criterion } from './node-criteria.js'

const NODECH_USAGE = [
  'Usage: nodech <noderange> table.column=value [...]',
  '       nodech {-d | --delete} <noderange> <table> [...]',
  '       nodech {-v | --version}',
  '       nodech [-? | -h | --help]',
]

const NODEADD_USAGE = [
  'Usage: nodeadd <noderange> groups=<groupnames> [table.column=value] [...]',
  '       nodeadd {-v | --version}',
  '       nodeadd [-? | -h | --help]',
]

const NODERM_USAGE = ['Usage:', '  noderm noderange', '  noderm {-v|--version}', '  noderm [-?|-h|--help]']

/** What nodech writes for an empty value: a regex value that evaluates to nothing, so groups no longer fill it in. */
const EMPTY_VALUE = '|^.*$||'

interface Edit extends ColumnRef {
  readonly op: '=' | ',=' | '^='
  readonly value: string
}

/** Parses nodech/nodeadd arguments into criteria and edits; errors are reported, a bad column stops everything. */
function parseEdits(args: readonly string[], ctx: PluginContext): { criteria: Criterion[]; edits: Edit[] } | undefined {
  const criteria: Criterion[] = []
  const edits: Edit[] = []
  for (const arg of args) {
    if (!arg.includes('=') && !arg.includes('!~')) {
      ctx.respond(errorResponse(`Malformed argument ${arg} ignored.`))
      continue
    }
    const crit = /^[^=]*(==|!=|=~|!~)/.test(arg) ? parseCriterion(arg) : undefined
    if (crit) {
      const ref = resolveColumn(crit.name)
      if ('error' in ref) {
        ctx.respond(errorResponse(ref.error))
        return undefined
      }
      criteria.push({ ...ref, test: criterionTest(crit.op, crit.value) })
      continue
    }
    const eq = arg.indexOf('=')
    let name = arg.slice(0, eq)
    let value = arg.slice(eq + 1).replace(/^@/, '')
    if (value === '') value = EMPTY_VALUE
    let op: Edit['op'] = '='
    if (name.endsWith(',')) {
      op = ',='
      name = name.slice(0, -1)
    } else if (name.endsWith('^')) {
      op = '^='
      name = name.slice(0, -1)
    }
    const ref = resolveColumn(name)
    if ('error' in ref) {
      ctx.respond(errorResponse(ref.error))
      return undefined
    }
    edits.push({ ...ref, op, value })
  }
  return { criteria, edits }
}

/** Applies edits to each node (comma-list ops start from the node's effective value), one transaction for all. */
async function applyEdits(ctx: PluginContext, nodes: readonly string[], parsed: { criteria: Criterion[]; edits: Edit[] }): Promise<void> {
  const { criteria, edits } = parsed
  const current = await effectiveValues(ctx.tables, nodes, [...criteria, ...edits])
  const selected = nodes.filter((n) => criteria.every((c) => c.test(current.get(n)?.get(`${c.table}.${c.col}`) ?? '')))
  const byTable = new Map<string, Map<string, Record<string, string>>>()
  for (const node of selected) {
    const pending = new Map<string, string>()
    for (const e of edits) {
      const key = `${e.table}.${e.col}`
      const cur = pending.get(key) ?? current.get(node)?.get(key) ?? ''
      let next = e.value
      if (e.op === ',=' && cur) {
        const items = cur.split(',')
        for (const item of e.value.split(',')) if (!items.includes(item)) items.unshift(item)
        next = items.join(',')
      } else if (e.op === '^=') {
        const remove = e.value.split(',')
        const items = cur.split(',')
        if (!items.some((i) => remove.includes(i))) continue
        next = items.filter((i) => !remove.includes(i)).join(',')
      }
      pending.set(key, next)
      const rows = byTable.get(e.table) ?? new Map<string, Record<string, string>>()
      rows.set(node, { ...(rows.get(node) ?? {}), [e.col]: next })
      byTable.set(e.table, rows)
    }
  }
  await ctx.tables.transaction([...byTable.keys()], async (tx) => {
    for (const [table, rows] of byTable) {
      const keyCol = TABLES[table]?.keys[0] ?? 'node'
      await tx.setMany(table, [...rows].map(([node, values]) => ({ keys: { [keyCol]: node }, values })))
    }
  })
}

/** nodech: changes node attributes in tables (`=`, `,=` add to list, `^=` remove from list), or -d deletes rows. */
export async function nodech(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['h|?|help', 'v|version', 'd|delete'])
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(NODECH_USAGE, 1))
    throw err
  }
  const { opts, args } = parsed
  if (opts.h) return ctx.respond(usageResponse(NODECH_USAGE))
  if (opts.v) return ctx.respond({ data: [versionString()] })
  const nodes = req.node ?? []
  if (args.length === 0 || nodes.length === 0) return ctx.respond(usageResponse(NODECH_USAGE, 1))
  if (opts.d) {
    const tables: string[] = []
    for (const arg of args) {
      if (/[=.]/.test(arg)) ctx.respond(errorResponse('. and = not valid in delete mode.'))
      else if (!Object.hasOwn(TABLES, arg) || TABLES[arg]?.keys[0] !== 'node') ctx.respond(errorResponse(`ERROR: Unable to open table ${arg} in configuration`))
      else tables.push(arg)
    }
    await deleteNodeRows(ctx, nodes, tables)
    return
  }
  const edits = parseEdits(args, ctx)
  if (edits) await applyEdits(ctx, nodes, edits)
}

/** nodeadd: defines new nodes (names need not exist yet) with the given attributes. */
export async function nodeadd(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['h|?|help', 'v|version'])
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(NODEADD_USAGE, 1))
    throw err
  }
  const { opts, args } = parsed
  if (opts.h) return ctx.respond(usageResponse(NODEADD_USAGE))
  if (opts.v) return ctx.respond({ data: [versionString()] })
  const [range, ...rest] = args
  if (range === undefined || rest.length === 0) return ctx.respond(usageResponse(NODEADD_USAGE, 1))
  const { nodes } = await expandNoderange(ctx.tables, range, { verify: false })
  const bad = nodes.filter((n) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n))
  if (bad.length > 0) return ctx.respond(errorResponse(`The node name '${bad.join(',')}' is invalid: node names may contain only letters, digits, '-', '_' and '.'.`))
  const capitals = nodes.filter((n) => /[A-Z]/.test(n))
  if (capitals.length) ctx.respond({ warning: [`The node name '${capitals.join(',')}' contains capital letters which may not be resolved correctly by the dns server.`] })
  const edits = parseEdits(rest, ctx)
  if (edits) await applyEdits(ctx, nodes, edits)
}

/** noderm: removes the nodes' rows from every node-keyed table. */
export async function noderm(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['h|?|help', 'v|version'])
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(NODERM_USAGE, 1))
    throw err
  }
  if (parsed.opts.h) return ctx.respond(usageResponse(NODERM_USAGE))
  if (parsed.opts.v) return ctx.respond({ data: [versionString()] })
  const nodes = req.node ?? []
  if (nodes.length === 0) return ctx.respond(usageResponse(NODERM_USAGE, 1))
  await deleteNodeRows(ctx, nodes, NODE_KEYED_TABLES)
}

async function deleteNodeRows(ctx: PluginContext, nodes: readonly string[], tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return
  await ctx.tables.transaction(tables, async (tx) => {
    for (const t of tables) await tx.delEntries(t, nodes.map((node) => ({ node })))
  })
}
