import { writeFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import { getopt, GetoptError } from '../getopt.js'
import { first, type XcatRequest } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { errorResponse, usageResponse } from '../server/respond.js'
import { csvHeader, csvRow } from '../table/csv.js'
import type { Row } from '../table/driver.js'
import { columnDescriptions, TABLE_NAMES, TABLES, tableDescription } from '../table/schema.js'
import { versionString } from '../version.js'

const USAGE = [
  'Usage: tabdump [-d] [table]',
  '       tabdump      [table]',
  '       tabdump [-f <filename>]  [table]',
  '       tabdump [-n <# of records>]  [auditlog | eventlog]',
  '       tabdump [-w attr==val [-w attr=~val] ...] [table]',
  '       tabdump [-w attr==val [-w attr=~val] ...] [-f <filename>] [table]',
  '       tabdump [-?|-h|--help]',
  '       tabdump {-v|--version}',
  '       tabdump ',
]

/** A `-w` filter on one column. */
export interface WhereFilter {
  readonly col: string
  readonly test: (value: string | null) => boolean
}

const WHERE_OPERATORS: readonly [RegExp, string][] = [
  [/^[^=]*==/, '=='],
  [/^[^=]*=~/, '=~'],
  [/^[^=]*!=/, '!='],
  [/[^=]*!~/, '!~'],
  [/^[^=]*<=/, '<='],
  [/^[^=]*</, '<'],
  [/^[^=]*>=/, '>='],
  [/^[^=]*>/, '>'],
]

/** SQL LIKE as xCAT's default SQLite runs it: `%` and `_` wildcards, ASCII case folded. */
function likeMatcher(pattern: string): (v: string) => boolean {
  const re = new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '[\\s\\S]*').replace(/_/g, '[\\s\\S]')}$`, 'i')
  return (v) => re.test(v)
}

/** Parses tabdump's `-w attr<op>val` (xCAT's buildWhereClause), with SQL's NULL semantics. */
export function parseWhere(expr: string): WhereFilter | string {
  const found = WHERE_OPERATORS.find(([re]) => re.test(expr))
  if (!found) return `Unsupported operator:${expr} on -w flag input`
  const op = found[1]
  const at = expr.indexOf(op)
  const col = expr.slice(0, at)
  let val = expr.slice(at + op.length)
  if (op === '=~' || op === '!~') val = val.replace(/^\//, '').replace(/\/$/, '')
  const like = likeMatcher(val)
  const tests: Record<string, (v: string) => boolean> = {
    '==': (v) => v === val,
    '!=': (v) => v !== val,
    '=~': like,
    '!~': (v) => !like(v),
    '<=': (v) => v <= val,
    '<': (v) => v < val,
    '>=': (v) => v >= val,
    '>': (v) => v > val,
  }
  const test = tests[op] ?? (() => false)
  return { col, test: (v) => v !== null && test(v) }
}

/** tabdump: lists tables, dumps one as CSV (to the client or a file), or shows column descriptions. */
export async function tabdump(req: XcatRequest, ctx: PluginContext): Promise<void> {
  let parsed
  try {
    parsed = getopt(req.arg ?? [], ['h|?|help', 'v|version', 'n|lines=i', 'd', 'f=s', 'w=s@'], { requireOrder: true })
  } catch (err) {
    if (err instanceof GetoptError) return ctx.respond(usageResponse(USAGE, 1))
    throw err
  }
  const { opts, args } = parsed
  if (opts.v) return ctx.respond({ data: [versionString()] })
  let file = opts.f as string | undefined
  if (file !== undefined && !isAbsolute(file)) file = join(first(req.cwd) ?? '/', file)
  if (opts.h) return ctx.respond(usageResponse(USAGE))
  const where = (opts.w as string[] | undefined) ?? []
  if (opts.n !== undefined && (opts.d || where.length || file !== undefined)) {
    const other = opts.d ? 'd' : where.length ? 'w' : 'f'
    return ctx.respond(errorResponse(`You  cannot use the -n and -${other} flag together. `))
  }
  if (args.length > 1) return ctx.respond(usageResponse(USAGE, 1))
  const table = args[0]
  if (table === undefined) {
    if (file !== undefined) return ctx.respond(errorResponse('table name missing from the command input. '))
    if (opts.d) return ctx.respond({ data: describe(TABLE_NAMES.map((t) => [t, tableDescription(t)])) })
    return ctx.respond({ data: [...TABLE_NAMES] })
  }
  if (opts.n !== undefined) {
    return ctx.respond(errorResponse(`${table} table is not supported in tabdump -n. You may only use this option on the auditlog or the eventlog.`))
  }
  if (opts.d) {
    if (!Object.hasOwn(TABLES, table)) return ctx.respond(errorResponse(`table ${table} does not exist.`))
    const desc = columnDescriptions(table)
    return ctx.respond({ data: describe((TABLES[table]?.cols ?? []).map((c) => [c, desc[c] ?? ''])) })
  }
  if (!Object.hasOwn(TABLES, table)) return ctx.respond(errorResponse(`No such table: ${table}`))
  const cols = await ctx.tables.columns(table)
  const filters: WhereFilter[] = []
  for (const w of where) {
    const f = parseWhere(w)
    if (typeof f === 'string') return ctx.respond(errorResponse(f))
    if (!cols.includes(f.col)) return ctx.respond(errorResponse(`No column "${f.col}" in table "${table}"`))
    filters.push(f)
  }
  const rows: Row[] = filters.length
    ? (await ctx.tables.getAllEntries(table)).filter((r) => filters.every((f) => f.test(r[f.col] ?? null)))
    : await ctx.tables.getAllEntries(table, { includeDisabled: true })
  const lines = [csvHeader(cols), ...rows.map((r) => csvRow(cols, r))]
  if (file === undefined) return ctx.respond({ data: lines })
  try {
    await writeFile(file, lines.map((l) => `${l}\n`).join(''))
  } catch {
    ctx.respond(errorResponse(`Error on tabdump of ${table} to ${file}. Unable to open the file for write. `))
  }
}

/** tabdump -d lines: `name:` then one tab (two for names shorter than 7) and the description, blank line between. */
function describe(entries: readonly (readonly [string, string])[]): string[] {
  const lines = entries.map(([name, text]) => `${name}:${name.length < 7 ? '\t\t' : '\t'}${text}\n`)
  const last = lines.length - 1
  if (last >= 0) lines[last] = (lines[last] ?? '').slice(0, -1)
  return lines
}
