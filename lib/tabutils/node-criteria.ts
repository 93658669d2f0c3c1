import { perlRegex } from '../table/regex-value.js'
import { TABLES } from '../table/schema.js'
import type { Tables } from '../table/tables.js'

/** nodels/nodech short attribute names. */
export const SHORT_NAMES: Readonly<Record<string, string>> = { groups: 'nodelist.groups', tags: 'nodelist.groups', mgt: 'nodehm.mgt' }

/** A node attribute named on the command line, `table.col` or a short name. */
export interface ColumnRef {
  readonly table: string
  readonly col: string
  /** The name as the user typed it (nodels labels output with it). */
  readonly label: string
}

/** A selection criterion: `attr==v`, `attr!=v`, `attr=~re`, `attr!~re`. */
export interface Criterion extends ColumnRef {
  readonly test: (value: string) => boolean
}

/** Resolves `groups`, `mgt`, `table.col`; undefined when it names no known table column. */
export function resolveColumn(name: string): ColumnRef | { error: string } {
  const full = SHORT_NAMES[name] ?? name
  const dot = full.indexOf('.')
  if (dot < 0) return { error: `${name} not a valid table.column description` }
  const table = full.slice(0, dot)
  const col = full.slice(dot + 1)
  if (!Object.hasOwn(TABLES, table) || !TABLES[table]?.cols.includes(col)) return { error: `${table}.${col} not a valid table.column description` }
  return { table, col, label: name }
}

/** Splits a criterion argument, trying xCAT's operators in nodels' order; undefined for a plain attribute. */
export function parseCriterion(arg: string): { name: string; op: '==' | '!=' | '=~' | '!~'; value: string } | undefined {
  const tests: [RegExp, '==' | '!=' | '=~' | '!~'][] = [
    [/^[^=]*!=/, '!='],
    [/^[^=]*=~/, '=~'],
    [/^[^=]*==/, '=='],
    [/^[^=]*!~/, '!~'],
  ]
  for (const [re, op] of tests) {
    if (!re.test(arg)) continue
    const at = arg.indexOf(op)
    let value = arg.slice(at + 2)
    if (op === '=~' || op === '!~') value = value.replace(/^\//, '').replace(/\/$/, '')
    return { name: arg.slice(0, at), op, value }
  }
  return undefined
}

/** A test for a criterion's operator and value (a missing value compares as ''). */
export function criterionTest(op: '==' | '!=' | '=~' | '!~', value: string): (v: string) => boolean {
  if (op === '==') return (v) => v === value
  if (op === '!=') return (v) => v !== value
  const re = perlRegex(value)
  if (!re) return () => false
  return op === '=~' ? (v) => re.test(v) : (v) => !re.test(v)
}

/** Effective values (group inheritance, regex values) of `refs` for `nodes`: node, then `table.col`, to value. */
export async function effectiveValues(tables: Tables, nodes: readonly string[], refs: readonly ColumnRef[]): Promise<Map<string, Map<string, string>>> {
  const byTable = new Map<string, Set<string>>()
  for (const r of refs) byTable.set(r.table, (byTable.get(r.table) ?? new Set()).add(r.col))
  const values = new Map<string, Map<string, string>>(nodes.map((n) => [n, new Map()]))
  for (const [table, cols] of byTable) {
    const rows = await tables.getNodesAttribs(table, nodes, [...cols])
    for (const [node, row] of rows) {
      for (const col of cols) {
        const v = row[col]
        if (v !== undefined && v !== null) values.get(node)?.set(`${table}.${col}`, v)
      }
    }
  }
  return values
}
