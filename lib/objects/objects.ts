import type { Row } from '../table/driver.js'
import { TABLES } from '../table/schema.js'
import { splitList, type TableOps, type Tables } from '../table/tables.js'
import { OBJECT_TYPES, SITE_OBJECT, onlyIfHolds, type AttrDef, type ObjectType, type ObjectTypeDef } from './defs.js'

/** Attribute values of one object (only set attributes are present). */
export type ObjectAttrs = Record<string, string>

/** How a write combines with the stored comma lists: replace, add items (-p) or remove items (-m). */
export type WriteMode = 'replace' | 'plus' | 'minus'

/** Tables whose rows are keyed by node (or group) name. */
export const NODE_KEYED_TABLES: readonly string[] = Object.values(TABLES)
  .filter((t) => t.keys[0] === 'node')
  .map((t) => t.name)

function byTable(defs: readonly AttrDef[]): Map<string, AttrDef[]> {
  const grouped = new Map<string, AttrDef[]>()
  for (const d of defs) grouped.set(d.table, [...(grouped.get(d.table) ?? []), d])
  return grouped
}

/** Names of every object of `type`, sorted. */
export async function listObjects(tables: Tables, type: ObjectType): Promise<string[]> {
  const def = OBJECT_TYPES[type]
  if (type === 'site') return (await tables.getAllEntries('site')).length > 0 ? [SITE_OBJECT] : []
  const names = new Set<string>()
  for (const row of await tables.getAllEntries(def.table)) {
    const name = row[def.keyCol]
    if (name) names.add(name)
  }
  if (type === 'group') {
    for (const row of await tables.getAllEntries('nodelist')) for (const g of splitList(row.groups)) names.add(g)
  }
  return [...names].sort()
}

/** Static members of each group, in nodelist row order. */
export async function staticGroupMembers(tables: Tables): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>()
  for (const row of await tables.getAllEntries('nodelist')) {
    if (!row.node) continue
    for (const g of splitList(row.groups)) members.set(g, [...(members.get(g) ?? []), row.node])
  }
  return members
}

/** Attribute values of the named objects: nodes with group inheritance and regex values, other types as stored. */
export async function getObjectDefs(tables: Tables, type: ObjectType, names: readonly string[]): Promise<Map<string, ObjectAttrs>> {
  const result = new Map<string, ObjectAttrs>(names.map((n) => [n, {}]))
  if (names.length === 0) return result
  const def = OBJECT_TYPES[type]
  if (type === 'site') {
    const attrs: ObjectAttrs = {}
    for (const row of await tables.getAllEntries('site')) if (row.key && row.value) attrs[row.key] = row.value
    for (const n of names) result.set(n, { ...attrs })
    return result
  }
  if (type === 'node') {
    for (const [table, defs] of byTable(def.attrs)) {
      const values = await tables.getNodesAttribs(table, names, defs.map((d) => d.col))
      for (const [node, row] of values) copyAttrs(result.get(node), defs, row)
    }
    return result
  }
  const rowsByTable = new Map<string, Map<string, Row>>()
  for (const table of new Set(def.attrs.map((d) => d.table))) {
    const keyCol = table === def.table ? def.keyCol : (TABLES[table]?.keys[0] ?? def.keyCol)
    const rows = new Map<string, Row>()
    for (const row of await tables.getRowsIn(table, keyCol, [...names])) {
      const k = row[keyCol]
      if (k && !rows.has(k)) rows.set(k, row)
    }
    rowsByTable.set(table, rows)
  }
  for (const name of names) {
    const attrs = result.get(name) ?? {}
    for (const d of def.attrs.filter((a) => !a.onlyIf)) copyAttrs(attrs, [d], rowsByTable.get(d.table)?.get(name))
    for (const d of def.attrs.filter((a) => a.onlyIf && onlyIfHolds(a, attrs))) copyAttrs(attrs, [d], rowsByTable.get(d.table)?.get(name))
  }
  if (type === 'group') {
    const members = await staticGroupMembers(tables)
    for (const name of names) {
      const attrs = result.get(name) ?? {}
      if (attrs.grouptype === 'dynamic') continue
      attrs.members = (members.get(name) ?? []).join(',')
    }
  }
  return result
}

function copyAttrs(target: ObjectAttrs | undefined, defs: readonly AttrDef[], row: Row | undefined): void {
  if (!target || !row) return
  for (const d of defs) {
    const v = row[d.col]
    if (v !== undefined && v !== null && v !== '' && target[d.attr] === undefined) target[d.attr] = v
  }
}

/** True when `name` exists as an object of `type`. */
export async function objectExists(tables: Tables, type: ObjectType, name: string): Promise<boolean> {
  return (await listObjects(tables, type)).includes(name)
}

/** The attribute definitions a value may be written to: the attribute's entry whose only_if holds. */
export function attrDefFor(def: ObjectTypeDef, attr: string, values: Readonly<Record<string, string | undefined>>): AttrDef | undefined {
  const candidates = def.attrs.filter((a) => a.attr === attr)
  return candidates.find((a) => onlyIfHolds(a, values)) ?? candidates[0]
}

/** Combines a stored comma list with a -p/-m edit; throws the item that -m cannot remove. */
export function editList(current: string | undefined, change: string, mode: WriteMode, separator = ','): string {
  if (mode === 'replace') return change
  const items = current ? current.split(separator).filter((s) => s !== '') : []
  const edits = change.split(separator).filter((s) => s !== '')
  if (mode === 'plus') {
    if (!current) return change
    return [...items, ...edits.filter((e) => !items.includes(e))].join(separator)
  }
  const missing = edits.find((e) => !items.includes(e))
  if (missing !== undefined) throw new ListEditError(missing)
  return items.filter((i) => !edits.includes(i)).join(separator)
}

/** A -m edit named an item that is not in the list. */
export class ListEditError extends Error {
  constructor(readonly item: string) {
    super(item)
  }
}

/** One table write of an object definition. */
export interface ObjectWrite {
  readonly table: string
  readonly keys: Record<string, string>
  readonly values: Record<string, string | null>
}

/** The table writes that store `attrs` for object `name` of `type` (site rows, node rows, image rows...). */
export function objectWrites(type: ObjectType, name: string, attrs: Readonly<Record<string, string>>, context: Readonly<Record<string, string | undefined>> = {}): ObjectWrite[] {
  const def = OBJECT_TYPES[type]
  if (type === 'site') return Object.entries(attrs).map(([key, value]) => ({ table: 'site', keys: { key }, values: { value } }))
  const writes = new Map<string, ObjectWrite>()
  const known = { ...context, ...attrs }
  for (const [attr, value] of Object.entries(attrs)) {
    const target = attrDefFor(def, attr, known)
    if (!target) continue
    const keyCol = target.table === def.table ? def.keyCol : (TABLES[target.table]?.keys[0] ?? def.keyCol)
    const w = writes.get(target.table) ?? { table: target.table, keys: { [keyCol]: name }, values: {} }
    w.values[target.col] = value
    writes.set(target.table, w)
  }
  return [...writes.values()]
}

/** Applies writes in one transaction; site attributes set to '' delete their row, as xCAT does. */
export async function applyWrites(tables: Tables, writes: readonly ObjectWrite[], extra?: (tx: TableOps) => Promise<void>, extraTables: readonly string[] = []): Promise<void> {
  const involved = [...new Set([...writes.map((w) => w.table), ...extraTables])]
  if (involved.length === 0) return
  await tables.transaction(involved, async (tx) => {
    for (const w of writes) {
      if (w.table === 'site' && w.values.value === '') await tx.delEntries('site', [w.keys])
      else await tx.setAttribs(w.table, w.keys, w.values)
    }
    await extra?.(tx)
  })
}

/** Deletes every row that stores the named objects (for a group, also its name in members' nodelist.groups). */
export async function removeObjects(tables: Tables, type: ObjectType, names: readonly string[]): Promise<void> {
  const def = OBJECT_TYPES[type]
  const targets = type === 'node' || type === 'group' ? [...NODE_KEYED_TABLES, ...(type === 'group' ? ['nodegroup'] : [])] : [...new Set(def.attrs.map((a) => a.table).concat(def.table))]
  const groupEdits = type === 'group' ? await groupRemovals(tables, names) : new Map<string, string>()
  await tables.transaction(targets, async (tx) => {
    if (type === 'site') {
      await tx.delEntries('site')
      return
    }
    for (const table of targets) {
      const keyCol = table === def.table ? def.keyCol : (TABLES[table]?.keys[0] ?? def.keyCol)
      await tx.delEntries(table, names.map((n) => ({ [keyCol]: n })))
    }
    for (const [node, groups] of groupEdits) await tx.setAttribs('nodelist', { node }, { groups })
  })
}

async function groupRemovals(tables: Tables, groups: readonly string[]): Promise<Map<string, string>> {
  const edits = new Map<string, string>()
  for (const row of await tables.getAllEntries('nodelist')) {
    const current = splitList(row.groups)
    const kept = current.filter((g) => !groups.includes(g))
    if (row.node && kept.length !== current.length) edits.set(row.node, kept.join(','))
  }
  return edits
}
