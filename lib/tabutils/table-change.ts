import { TABLES } from '../table/schema.js'
import { isEnabledRow, type KeyValues, type Tables } from '../table/tables.js'

/** A tabch/chtab request that cannot be carried out; `message` is xCAT's text. */
export class TableChangeError extends Error {}

/** The key columns and values that select rows, from `key=val[,key2=val2]` (each pair split at its last `=`). */
export function parseKeyPairs(text: string): Record<string, string> {
  const keys: Record<string, string> = {}
  for (const pair of text.split(',')) {
    const eq = pair.lastIndexOf('=')
    if (eq < 0 || /^[^.=]+\.[^.=]+=/.test(pair)) throw new TableChangeError(`Incorrect argument "${pair}".`)
    keys[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return keys
}

interface Assignment {
  readonly col: string
  readonly value: string
  readonly append: boolean
}

/** Parses `table.col=value` / `table.col+=items` arguments into per-table assignments, checking tables and columns. */
export function parseAssignments(args: readonly string[], keys: Readonly<Record<string, string>>): Map<string, Assignment[]> {
  const plan = new Map<string, Assignment[]>()
  for (const arg of args) {
    const dot = arg.indexOf('.')
    const table = dot < 0 ? arg : arg.slice(0, dot)
    const spec = Object.hasOwn(TABLES, table) ? TABLES[table] : undefined
    if (!spec) throw new TableChangeError(`Table ${table} does not exist.`)
    for (const k of Object.keys(keys)) if (!spec.cols.includes(k)) throw new TableChangeError(`No column "${k}" in table "${table}"`)
    const rest = arg.slice(dot + 1)
    const plus = rest.indexOf('+=')
    const eq = rest.indexOf('=')
    if (dot < 0 || eq < 0) throw new TableChangeError(`Incorrect argument "${arg}".`)
    const append = plus >= 0 && plus < eq
    const col = append ? rest.slice(0, plus) : rest.slice(0, eq)
    const value = append ? rest.slice(plus + 2) : rest.slice(eq + 1)
    if (!spec.cols.includes(col)) throw new TableChangeError(`${table}.${col} not a valid table.column description`)
    plan.set(table, [...(plan.get(table) ?? []), { col, value, append }])
  }
  return plan
}

/** Appends comma-list items not yet present (chtab's `+=`). */
function appendItems(current: string | null | undefined, items: string): string {
  if (!current) return items
  const have = current.split(',')
  return [...have, ...items.split(',').filter((i) => !have.includes(i))].join(',')
}

/** Applies the assignments to the rows selected by `keys`, all tables in one transaction. */
export async function applyAssignments(tables: Tables, keys: KeyValues, plan: ReadonlyMap<string, readonly Assignment[]>): Promise<void> {
  await tables.transaction([...plan.keys()], async (tx) => {
    for (const [table, assignments] of plan) {
      const locked = await tx.getRows(table, keys, { lock: true, includeDisabled: true })
      const existing = locked.filter(isEnabledRow)
      const values: Record<string, string> = {}
      for (const a of assignments) values[a.col] = a.append ? appendItems(values[a.col] ?? existing[0]?.[a.col], a.value) : a.value
      if (existing.length === 0 && Object.values(values).every((v) => v === '')) continue
      if (locked.length === 0) {
        // Nothing to lock: a row another writer adds meanwhile must fail this insert (and the transaction is run
        // again, reading it), not be overwritten by a value computed without it.
        await tx.insert(table, { ...keys, ...values })
        continue
      }
      await tx.setAttribs(table, keys, values)
    }
  })
}

/** Deletes the rows selected by `keys` from each table; returns the tables that do not exist. */
export async function deleteRows(tables: Tables, keys: KeyValues, names: readonly string[]): Promise<string[]> {
  const unknown = names.filter((t) => !Object.hasOwn(TABLES, t))
  const known = names.filter((t) => Object.hasOwn(TABLES, t))
  for (const t of known) {
    for (const k of Object.keys(keys)) if (!TABLES[t]?.cols.includes(k)) throw new TableChangeError(`No column "${k}" in table "${t}"`)
  }
  if (known.length > 0) await tables.transaction(known, async (tx) => {
    for (const t of known) await tx.delEntries(t, [keys])
  })
  return unknown
}
