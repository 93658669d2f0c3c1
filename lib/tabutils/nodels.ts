import { getopt, GetoptError } from '../getopt.js'
import type { NodeResponse, XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { TABLES } from '../table/schema.js'
import type { Tables } from '../table/tables.js'
import { versionString } from '../version.js'
import { criterionTest, effectiveValues, parseCriterion, resolveColumn, type ColumnRef, type Criterion } from './node-criteria.js'

const USAGE = [
  'Usage:',
  '  nodels [noderange] [-b|--blame] [-H|--with-fieldname] [table.attribute | shortname] [-S][...]',
  '  nodels {-v|--version}',
  '  nodels [-?|-h|--help]',
]

/** Drops nodes whose nodelist.hidden is 1 (service and management entries xCAT hides). */
async function visible(tables: Tables, nodes: readonly string[]): Promise<string[]> {
  const hidden = await tables.getNodesAttribs('nodelist', nodes, ['hidden'])
  return nodes.filter((n) => Number(hidden.get(n)?.hidden ?? 0) !== 1)
}

/** Which group supplied an inherited value, for `-b`: undefined when the node's own row holds it. */
async function blame(tables: Tables, nodes: readonly string[], refs: readonly ColumnRef[]): Promise<Map<string, string>> {
  const groups = await tables.nodeGroups(nodes)
  const result = new Map<string, string>()
  for (const table of new Set(refs.map((r) => r.table))) {
    if (table === 'nodelist' || TABLES[table]?.keys[0] !== 'node') continue
    const keys = new Set<string>(nodes)
    for (const g of groups.values()) for (const x of g) keys.add(x)
    const raw = new Map((await tables.getRowsIn(table, 'node', [...keys])).map((r) => [r.node ?? '', r]))
    for (const node of nodes) {
      for (const ref of refs.filter((r) => r.table === table)) {
        if (raw.get(node)?.[ref.col]) continue
        const from = (groups.get(node) ?? []).find((g) => raw.get(g)?.[ref.col])
        if (from) result.set(`${node} ${table}.${ref.col}`, from)
      }
    }
  }
  return result
}

/** nodels: lists nodes, or their table attributes (`table.col`, short names, whole tables), with optional filters. */
export async function nodels(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['h|?|help', 'H|with-fieldname', 'b|blame', 'v|version', 'S'])
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(USAGE, 1))
    throw err
  }
  const { opts, args } = parsed
  if (opts.h) return ctx.respond(usageResponse(USAGE))
  if (opts.v) return ctx.respond({ data: [versionString()] })
  const requested = req.node ?? (req.emptynoderange ? [] : (await ctx.tables.getAllEntries('nodelist')).flatMap((r) => (r.node ? [r.node] : [])))
  const nodes = (opts.S ? [...requested] : await visible(ctx.tables, requested)).sort()
  if (args.length === 0) {
    if (nodes.length) ctx.respond({ data: nodes })
    return
  }
  let terse = opts.H ? 0 : 2
  const shown: ColumnRef[] = []
  const filters: Criterion[] = []
  for (const arg of args) {
    const crit = parseCriterion(arg)
    const name = crit ? crit.name : arg
    if (!name.includes('.') && Object.hasOwn(TABLES, name) && !crit) {
      terse = 0
      for (const col of TABLES[name]?.cols ?? []) shown.push({ table: name, col, label: `${name}.${col}` })
      continue
    }
    terse--
    const ref = resolveColumn(name)
    if ('error' in ref) {
      ctx.respond(errorResponse(ref.error))
      continue
    }
    if (!crit) {
      shown.push(ref)
      continue
    }
    if (filters.some((f) => f.table === ref.table && f.col === ref.col)) {
      return ctx.respond({ error: [`Multiple selection critera for ${ref.label}`] })
    }
    filters.push({ ...ref, test: criterionTest(crit.op, crit.value) })
  }
  const tableOrder = [...new Set(shown.map((r) => r.table))]
  shown.sort((a, b) => tableOrder.indexOf(a.table) - tableOrder.indexOf(b.table) || (a.col < b.col ? -1 : a.col > b.col ? 1 : 0))
  const values = await effectiveValues(ctx.tables, nodes, [...shown, ...filters])
  const blamed = opts.b ? await blame(ctx.tables, nodes, shown) : new Map<string, string>()
  const out: NodeResponse[] = []
  for (const node of nodes) {
    const own = values.get(node) ?? new Map<string, string>()
    if (!filters.every((f) => f.test(own.get(`${f.table}.${f.col}`) ?? ''))) continue
    if (shown.length === 0) {
      out.push({ name: [node] })
      continue
    }
    for (const ref of shown) {
      const key = `${ref.table}.${ref.col}`
      const from = blamed.get(`${node} ${key}`)
      const value = (own.get(key) ?? '') + (from ? ` (inherited from group ${from})` : '')
      out.push({ name: [node], data: [terse > 0 ? { contents: [value] } : { desc: [ref.label], contents: [value] }] })
    }
  }
  if (out.length) ctx.respond({ node: out })
}
