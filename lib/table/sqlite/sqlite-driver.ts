import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { XcatError, asXcatError } from '../../errors.js'
import { causeCode, type DbValue, type Row, type SqlDialect, type SqlExecutor, type TableDriver } from '../driver.js'
import { KeyedLock } from '../keyed-lock.js'

/** How long a writer waits for another process's lock before giving up. */
const BUSY_TIMEOUT_MS = 30_000
/** Prepared statements kept per driver; SQLite re-prepares them itself after a schema change. */
const STATEMENT_CACHE = 256

/** SQLite spelling: unquoted columns as xCAT writes them, `?` placeholders, serialized writers. */
export const SQLITE_DIALECT: SqlDialect = Object.freeze({
  name: 'sqlite' as const,
  quoteColumn: (col: string) => col,
  placeholder: () => '?',
  lockRowsSuffix: '',
  isRetryable: (err: unknown) => /^SQLITE_(CONSTRAINT_PRIMARYKEY|CONSTRAINT_UNIQUE|BUSY)/.test(String(causeCode(err))),
})

/** xCAT's SQLite layout: one database file per table, `<dir>/<table>.sqlite`, holding one table named like the file. */
export class SqliteDriver implements TableDriver {
  readonly dialect = SQLITE_DIALECT
  readonly #dir: string
  readonly #connections = new Map<string, Database.Database>()
  readonly #statements = new Map<string, Database.Statement>()
  readonly #lock = new KeyedLock()

  constructor(dir: string) {
    this.#dir = dir
    try {
      mkdirSync(dir, { recursive: true })
    } catch (err) {
      throw new XcatError('XCAT_ERR_DB_CONNECT', `Unable to connect to the database: cannot use directory ${dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  async all(table: string, sql: string, params: readonly DbValue[] = []): Promise<Row[]> {
    const release = await this.#lock.acquire([table])
    try {
      return this.#all(table, sql, params)
    } finally {
      release()
    }
  }

  async run(table: string, sql: string, params: readonly DbValue[] = []): Promise<number> {
    const release = await this.#lock.acquire([table])
    try {
      return this.#run(table, sql, params)
    } finally {
      release()
    }
  }

  async existingColumns(table: string): Promise<string[] | undefined> {
    const rows = await this.all(table, `PRAGMA table_info(${table})`)
    return rows.length === 0 ? undefined : rows.map((r) => String(r.name))
  }

  async transaction<T>(tables: readonly string[], fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const ordered = [...new Set(tables)].sort()
    const release = await this.#lock.acquire(ordered)
    const begun: Database.Database[] = []
    try {
      for (const table of ordered) {
        const db = this.#connection(table)
        try {
          db.exec('BEGIN IMMEDIATE')
        } catch (err) {
          throw mapError(err)
        }
        begun.push(db)
      }
      const tx: SqlExecutor = {
        all: async (table, sql, params = []) => this.#all(this.#inTx(ordered, table), sql, params),
        run: async (table, sql, params = []) => this.#run(this.#inTx(ordered, table), sql, params),
      }
      const result = await fn(tx)
      for (const db of begun) db.exec('COMMIT')
      begun.length = 0
      return result
    } catch (err) {
      for (const db of begun) {
        if (db.inTransaction) db.exec('ROLLBACK')
      }
      throw err
    } finally {
      release()
    }
  }

  async close(): Promise<void> {
    this.#statements.clear()
    for (const db of this.#connections.values()) db.close()
    this.#connections.clear()
  }

  #inTx(tables: readonly string[], table: string): string {
    if (!tables.includes(table)) throw new XcatError('XCAT_ERR_DB_QUERY', `Database error: table ${table} is not part of this transaction`)
    return table
  }

  #all(table: string, sql: string, params: readonly DbValue[]): Row[] {
    try {
      return this.#statement(table, sql).all(...params) as Row[]
    } catch (err) {
      throw mapError(err)
    }
  }

  #run(table: string, sql: string, params: readonly DbValue[]): number {
    try {
      return this.#statement(table, sql).run(...params).changes
    } catch (err) {
      throw mapError(err)
    }
  }

  #statement(table: string, sql: string): Database.Statement {
    const key = `${table}\0${sql}`
    let stmt = this.#statements.get(key)
    if (!stmt) {
      stmt = this.#connection(table).prepare(sql)
      if (this.#statements.size >= STATEMENT_CACHE) this.#statements.clear()
      this.#statements.set(key, stmt)
    }
    return stmt
  }

  #connection(table: string): Database.Database {
    let db = this.#connections.get(table)
    if (db) return db
    const file = join(this.#dir, `${table}.sqlite`)
    try {
      db = new Database(file)
      // The file's journal mode is left as it is (xCAT's files use the default rollback journal): writers are
      // serialized by BEGIN IMMEDIATE and everyone waits up to the busy timeout for a lock instead of failing.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    } catch (err) {
      throw new XcatError('XCAT_ERR_DB_CONNECT', `Unable to connect to the database: ${file}: ${(err as Error).message}`, { cause: err })
    }
    this.#connections.set(table, db)
    return db
  }
}

function mapError(err: unknown): XcatError {
  if (err instanceof XcatError) return err
  const wrapped = asXcatError(err, 'XCAT_ERR_DB_QUERY')
  return new XcatError('XCAT_ERR_DB_QUERY', `Database error: ${wrapped.message}`, { cause: err })
}
