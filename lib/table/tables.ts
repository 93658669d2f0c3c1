import { addColumnSql, createTableSql } from './create-table.js'
import type { DbValue, Row, SqlExecutor, TableDriver } from './driver.js'
import { parseHierarchicalAttrs, resolveNodeAttribs, type HierarchicalAttrs } from './node-attribs.js'
import { checkColumns, isNodeTable, tableSpec, type TableSpec } from './schema.js'

/** Column/value pairs that select rows (a null value matches NULL). */
export type KeyValues = Readonly<Record<string, DbValue>>

/** Above this many keys a read scans the whole table instead of chunked IN lists. */
const SCAN_THRESHOLD = 400
const IN_CHUNK = 400
const TX_ATTEMPTS = 5

/** xCAT's test for an enabled row: disable is NULL or one of its "no" spellings. */
export function isEnabledRow(row: Row): boolean {
  const d = row.disable ?? null
  return d === null || ['0', 'no', 'NO', 'No', 'nO'].includes(d)
}

/** One write keyed by the table's single key column. */
interface KeyedWrite {
  readonly key: string
  readonly values: KeyValues
}

/** The writes as single-key writes when every one names exactly the first key column, each key once; else undefined. */
function singleKeyWrites(spec: TableSpec, writes: readonly { keys: KeyValues; values: KeyValues }[]): KeyedWrite[] | undefined {
  const keyCol = spec.keys[0]
  if (!keyCol || writes.length < 2) return undefined
  const seen = new Set<string>()
  const out: KeyedWrite[] = []
  for (const w of writes) {
    const names = Object.keys(w.keys)
    const key = w.keys[keyCol]
    if (names.length !== 1 || names[0] !== keyCol || typeof key !== 'string' || seen.has(key) || keyCol in w.values) return undefined
    seen.add(key)
    out.push({ key, values: w.values })
  }
  return out
}

/** Reads and writes through one executor; the building block of {@link Tables} and its transactions. */
export class TableOps {
  protected readonly exec: SqlExecutor
  protected readonly tables: Tables

  constructor(exec: SqlExecutor, owner?: Tables) {
    this.exec = exec
    this.tables = owner ?? (this as unknown as Tables)
  }

  /** Every row of `table`; disabled rows only with `includeDisabled`; only `columns` (and disable) when given. */
  async getAllEntries(table: string, options: { includeDisabled?: boolean; columns?: readonly string[] } = {}): Promise<Row[]> {
    const spec = await this.tables.ensure(table)
    const rows = await this.exec.all(table, `SELECT ${this.#select(spec, options.columns)} FROM ${spec.name}`)
    return (options.includeDisabled ? rows : rows.filter(isEnabledRow)).map((r) => normalize(spec, r, options.columns))
  }

  /** Enabled rows (all with `includeDisabled`) whose columns equal `keys`; with `lock` (inside a transaction) they stay locked until it ends. */
  async getRows(table: string, keys: KeyValues, options: { lock?: boolean; includeDisabled?: boolean } = {}): Promise<Row[]> {
    const spec = await this.tables.ensure(table)
    checkColumns(spec, Object.keys(keys))
    const { sql, params } = this.#where(spec, keys, 1)
    const lock = options.lock ? this.tables.driver.dialect.lockRowsSuffix : ''
    const rows = await this.exec.all(table, `SELECT * FROM ${spec.name}${sql}${lock}`, params)
    return (options.includeDisabled ? rows : rows.filter(isEnabledRow)).map((r) => normalize(spec, r))
  }

  /** The first enabled row matching `keys` (xCAT's getAttribs). */
  async getAttribs(table: string, keys: KeyValues): Promise<Row | undefined> {
    return (await this.getRows(table, keys))[0]
  }

  /** Enabled rows whose `column` is one of `values`, in as few queries as the list allows; only `columns` when given. */
  async getRowsIn(table: string, column: string, values: readonly string[], columns?: readonly string[]): Promise<Row[]> {
    const spec = await this.tables.ensure(table)
    checkColumns(spec, [column, ...(columns ?? [])])
    if (values.length === 0) return []
    const wanted = columns ? [...new Set([column, ...columns])] : undefined
    if (values.length > SCAN_THRESHOLD) {
      const set = new Set(values)
      return (await this.getAllEntries(table, wanted ? { columns: wanted } : {})).filter((r) => {
        const v = r[column]
        return v !== null && v !== undefined && set.has(v)
      })
    }
    const rows: Row[] = []
    for (let i = 0; i < values.length; i += IN_CHUNK) {
      const chunk = values.slice(i, i + IN_CHUNK)
      const marks = chunk.map((_, j) => this.tables.driver.dialect.placeholder(j + 1)).join(',')
      rows.push(...(await this.exec.all(table, `SELECT ${this.#select(spec, wanted)} FROM ${spec.name} WHERE ${this.#col(column)} IN (${marks})`, chunk)))
    }
    return rows.filter(isEnabledRow).map((r) => normalize(spec, r, wanted))
  }

  /** xCAT's setAttribs: update the rows matching `keys`, or insert one row of keys and values when none matches. */
  async setAttribs(table: string, keys: KeyValues, values: KeyValues): Promise<void> {
    await this.setMany(table, [{ keys, values }])
  }

  /** Several setAttribs on one table in one transaction. */
  async setMany(table: string, writes: readonly { keys: KeyValues; values: KeyValues }[]): Promise<void> {
    const spec = await this.tables.ensure(table)
    for (const w of writes) checkColumns(spec, [...Object.keys(w.keys), ...Object.keys(w.values)])
    await this.within([table], async (tx) => {
      const keyed = singleKeyWrites(spec, writes)
      if (keyed) {
        for (let i = 0; i < keyed.length; i += IN_CHUNK) await tx.#upsertChunk(spec, keyed.slice(i, i + IN_CHUNK))
        return
      }
      for (const w of writes) await tx.#upsert(spec, w.keys, w.values)
    })
  }

  /** Inserts one row as given (tabrestore's write: a duplicate key is an error, not an update). */
  async insert(table: string, values: KeyValues): Promise<void> {
    const spec = await this.tables.ensure(table)
    checkColumns(spec, Object.keys(values))
    const cols = Object.keys(values)
    const marks = cols.map((_, i) => this.tables.driver.dialect.placeholder(i + 1)).join(', ')
    await this.within([table], (tx) => tx.exec.run(table, `INSERT INTO ${spec.name} (${cols.map((c) => this.#col(c)).join(', ')}) VALUES (${marks})`, cols.map((c) => values[c] ?? null)))
  }

  /** xCAT's delEntries: deletes rows matching each key set; with no key sets, every row. Returns rows deleted. */
  async delEntries(table: string, keySets?: readonly KeyValues[]): Promise<number> {
    const spec = await this.tables.ensure(table)
    for (const k of keySets ?? []) checkColumns(spec, Object.keys(k))
    return this.within([table], async (tx) => {
      if (!keySets) return tx.exec.run(table, `DELETE FROM ${spec.name}`)
      let n = 0
      const single = keySets.length > 1 && keySets.every((k) => Object.keys(k).length === 1 && Object.keys(k)[0] === Object.keys(keySets[0] ?? {})[0] && Object.values(k)[0] !== null)
      if (single) {
        const col = Object.keys(keySets[0] ?? {})[0] ?? ''
        const values = keySets.map((k) => k[col] ?? '')
        for (let i = 0; i < values.length; i += IN_CHUNK) {
          const chunk = values.slice(i, i + IN_CHUNK)
          const marks = chunk.map((_, j) => this.tables.driver.dialect.placeholder(j + 1)).join(',')
          n += await tx.exec.run(table, `DELETE FROM ${spec.name} WHERE ${this.#col(col)} IN (${marks})`, chunk)
        }
        return n
      }
      for (const keys of keySets) {
        const { sql, params } = tx.#where(spec, keys, 1)
        n += await tx.exec.run(table, `DELETE FROM ${spec.name}${sql}`, params)
      }
      return n
    })
  }

  /** Runs `fn` in a transaction over `tables` (this one when already inside a transaction). */
  protected async within<T>(tables: readonly string[], fn: (tx: TableOps) => Promise<T>): Promise<T> {
    return this.tables.transaction(tables, fn)
  }

  async #upsert(spec: TableSpec, keys: KeyValues, values: KeyValues): Promise<void> {
    const d = this.tables.driver.dialect
    const where = this.#where(spec, keys, 1)
    const found = Object.keys(keys).length > 0 && (await this.exec.all(spec.name, `SELECT 1 AS hit FROM ${spec.name}${where.sql}${d.lockRowsSuffix}`, where.params)).length > 0
    if (found) {
      const cols = Object.keys(values)
      if (cols.length === 0) return
      const sets = cols.map((c, i) => `${this.#col(c)} = ${d.placeholder(i + 1)}`).join(', ')
      const w = this.#where(spec, keys, cols.length + 1)
      await this.exec.run(spec.name, `UPDATE ${spec.name} SET ${sets}${w.sql}`, [...cols.map((c) => values[c] ?? null), ...w.params])
      return
    }
    const row = { ...keys, ...values }
    const cols = Object.keys(row)
    const marks = cols.map((_, i) => d.placeholder(i + 1)).join(', ')
    await this.exec.run(spec.name, `INSERT INTO ${spec.name} (${cols.map((c) => this.#col(c)).join(', ')}) VALUES (${marks})`, cols.map((c) => row[c] ?? null))
  }

  /** Many single-key upserts in a few statements: one select, one update per distinct set of values, one insert. */
  async #upsertChunk(spec: TableSpec, writes: readonly KeyedWrite[]): Promise<void> {
    const d = this.tables.driver.dialect
    const keyCol = this.#col(spec.keys[0] ?? '')
    const keyMarks = (n: number, from: number) => Array.from({ length: n }, (_, j) => d.placeholder(from + j)).join(',')
    const existing = new Set((await this.exec.all(spec.name, `SELECT ${keyCol} AS k FROM ${spec.name} WHERE ${keyCol} IN (${keyMarks(writes.length, 1)})${d.lockRowsSuffix}`, writes.map((w) => w.key))).map((r) => r.k))
    const updates = new Map<string, { values: KeyValues; keys: string[] }>()
    const inserts: KeyedWrite[] = []
    for (const w of writes) {
      if (!existing.has(w.key)) {
        inserts.push(w)
        continue
      }
      if (Object.keys(w.values).length === 0) continue
      const sig = JSON.stringify(Object.entries(w.values))
      const group = updates.get(sig) ?? { values: w.values, keys: [] }
      group.keys.push(w.key)
      updates.set(sig, group)
    }
    for (const { values, keys } of updates.values()) {
      const cols = Object.keys(values)
      const sets = cols.map((c, i) => `${this.#col(c)} = ${d.placeholder(i + 1)}`).join(', ')
      await this.exec.run(spec.name, `UPDATE ${spec.name} SET ${sets} WHERE ${keyCol} IN (${keyMarks(keys.length, cols.length + 1)})`, [...cols.map((c) => values[c] ?? null), ...keys])
    }
    const cols = [...new Set(inserts.flatMap((w) => Object.keys(w.values)))]
    if (inserts.length === 0) return
    const width = cols.length + 1
    const rows = inserts.map((_, r) => `(${keyMarks(width, r * width + 1)})`).join(', ')
    const params = inserts.flatMap((w) => [w.key, ...cols.map((c) => w.values[c] ?? null)])
    await this.exec.run(spec.name, `INSERT INTO ${spec.name} (${[keyCol, ...cols.map((c) => this.#col(c))].join(', ')}) VALUES ${rows}`, params)
  }

  #col(col: string): string {
    return this.tables.driver.dialect.quoteColumn(col)
  }

  #select(spec: TableSpec, columns: readonly string[] | undefined): string {
    if (!columns) return '*'
    checkColumns(spec, columns)
    return [...new Set([...columns, 'disable'])].map((c) => this.#col(c)).join(', ')
  }

  #where(spec: TableSpec, keys: KeyValues, first: number): { sql: string; params: DbValue[] } {
    const params: DbValue[] = []
    const terms = Object.entries(keys).map(([col, v]) => {
      if (v === null) return `${this.#col(col)} IS NULL`
      params.push(v)
      return `${this.#col(col)} = ${this.tables.driver.dialect.placeholder(first + params.length - 1)}`
    })
    return { sql: terms.length ? ` WHERE ${terms.join(' AND ')}` : '', params }
  }
}

/** Access to xCAT's tables with Table.pm's semantics, over any backend. */
export class Tables extends TableOps {
  readonly driver: TableDriver
  readonly #ensured = new Map<string, Promise<TableSpec>>()
  readonly #columns = new Map<string, string[]>()

  constructor(driver: TableDriver) {
    super(driver)
    this.driver = driver
  }

  /** Creates `table` on first use and adds columns an older copy lacks; returns its spec. */
  ensure(table: string): Promise<TableSpec> {
    let done = this.#ensured.get(table)
    if (!done) {
      done = this.#create(tableSpec(table))
      this.#ensured.set(table, done)
      done.catch(() => this.#ensured.delete(table))
    }
    return done
  }

  /** The table's columns in database order (the schema's, plus any extra columns an existing table has). */
  async columns(table: string): Promise<string[]> {
    const spec = await this.ensure(table)
    return this.#columns.get(table) ?? [...spec.cols]
  }

  /**
   * One transaction over `tables`: all of `fn`'s writes land together or none does. A transaction that lost a race
   * with another writer (duplicate key on insert, deadlock, serialization failure) is run again from the start.
   */
  async transaction<T>(tables: readonly string[], fn: (tx: TableOps) => Promise<T>): Promise<T> {
    for (const t of tables) await this.ensure(t)
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.driver.transaction(tables, (exec) => fn(new TxOps(exec, this)))
      } catch (err) {
        if (attempt >= TX_ATTEMPTS || !this.driver.dialect.isRetryable(err)) throw err
      }
    }
  }

  /** A site table value (site.key = `key`), undefined when unset. */
  async site(key: string): Promise<string | undefined> {
    return (await this.getAttribs('site', { key }))?.value ?? undefined
  }

  /** getNodeAttribs for one node. */
  async getNodeAttribs(table: string, node: string, cols: readonly string[]): Promise<Row | undefined> {
    return (await this.getNodesAttribs(table, [node], cols)).get(node)
  }

  /**
   * xCAT's getNodesAttribs: per node, its own row then its groups' rows in nodelist.groups order, site.hierarchicalattrs,
   * regex values, disabled rows ignored. Two or three queries whatever the number of nodes.
   */
  async getNodesAttribs(table: string, nodes: readonly string[], cols: readonly string[]): Promise<Map<string, Row>> {
    const spec = await this.ensure(table)
    checkColumns(spec, cols)
    const keyCol = spec.keys[0] ?? 'node'
    const inherit = table !== 'nodelist' && isNodeTable(spec)
    const groupsByNode = inherit ? await this.nodeGroups(nodes) : new Map<string, string[]>()
    const keys = new Set(nodes)
    for (const groups of groupsByNode.values()) for (const g of groups) keys.add(g)
    const rowsByKey = new Map<string, Row>()
    for (const row of await this.getRowsIn(table, keyCol, [...keys], cols)) {
      const k = row[keyCol]
      if (k !== null && k !== undefined && !rowsByKey.has(k)) rowsByKey.set(k, row)
    }
    const hierarchical = inherit ? await this.hierarchicalAttrs() : new Map<string, string>()
    const groupsOf = (n: string) => groupsByNode.get(n) ?? []
    const result = new Map<string, Row>()
    for (const node of nodes) {
      const row = resolveNodeAttribs(node, cols, { rowsByKey, groupsOf, hierarchical, inherit })
      if (row) result.set(node, row)
    }
    return result
  }

  /** Each node's groups, from nodelist.groups in their listed order. */
  async nodeGroups(nodes: readonly string[]): Promise<Map<string, string[]>> {
    const groups = new Map<string, string[]>()
    for (const row of await this.getRowsIn('nodelist', 'node', nodes, ['groups'])) {
      if (row.node && !groups.has(row.node)) groups.set(row.node, splitList(row.groups))
    }
    return groups
  }

  /** site.hierarchicalattrs, parsed. */
  async hierarchicalAttrs(): Promise<HierarchicalAttrs> {
    return parseHierarchicalAttrs(await this.site('hierarchicalattrs'))
  }

  /** setAttribs keyed by node for many nodes, in one transaction. */
  async setNodesAttribs(table: string, values: ReadonlyMap<string, KeyValues>): Promise<void> {
    const spec = tableSpec(table)
    const keyCol = spec.keys[0] ?? 'node'
    await this.setMany(table, [...values].map(([node, v]) => ({ keys: { [keyCol]: node }, values: v })))
  }

  /** Closes the database connections. */
  async close(): Promise<void> {
    await this.driver.close()
  }

  async #create(spec: TableSpec): Promise<TableSpec> {
    const dialect = this.driver.dialect
    const existing = await this.driver.existingColumns(spec.name)
    if (!existing) {
      try {
        await this.driver.run(spec.name, createTableSql(spec, dialect))
      } catch (err) {
        if (!(await this.driver.existingColumns(spec.name))) throw err
      }
      this.#columns.set(spec.name, [...spec.cols])
      return spec
    }
    const have = new Set(existing.map((c) => c.toLowerCase()))
    for (const col of spec.cols.filter((c) => !have.has(c))) {
      try {
        await this.driver.run(spec.name, addColumnSql(spec, col, dialect))
      } catch (err) {
        const now = await this.driver.existingColumns(spec.name)
        if (!now?.some((c) => c.toLowerCase() === col)) throw err
      }
    }
    this.#columns.set(spec.name, [...existing, ...spec.cols.filter((c) => !have.has(c))])
    return spec
  }
}

class TxOps extends TableOps {
  protected override async within<T>(_tables: readonly string[], fn: (tx: TableOps) => Promise<T>): Promise<T> {
    return fn(this)
  }
}

/** Splits a comma list as xCAT stores it, dropping empty items. */
export function splitList(value: DbValue | undefined): string[] {
  return (value ?? '').split(',').filter((s) => s !== '')
}

/** Every column of the row as text or NULL; rows of a column-limited query already are, and are kept as they are. */
function normalize(spec: TableSpec, row: Row, columns?: readonly string[]): Row {
  if (columns && columns.every((c) => row[c] === null || typeof row[c] === 'string')) return row
  const out: Row = {}
  for (const col of columns ?? [...spec.cols, ...Object.keys(row)]) {
    const v = row[col]
    out[col] = v === undefined || v === null ? null : String(v)
  }
  return out
}

