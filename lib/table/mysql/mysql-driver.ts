import mysql from 'mysql2/promise'
import { XcatError } from '../../errors.js'
import { causeCode, type DbValue, type Row, type SqlDialect, type SqlExecutor, type TableDriver } from '../driver.js'

/** Connection settings of a MariaDB/MySQL database. */
export interface MysqlConfig {
  readonly host: string
  readonly port?: number
  readonly database: string
  readonly user: string
  readonly password: string
}

/** MariaDB/MySQL spelling: backquoted columns as xCAT delimits them, `?` placeholders, FOR UPDATE row locks. */
export const MYSQL_DIALECT: SqlDialect = Object.freeze({
  name: 'mysql' as const,
  quoteColumn: (col: string) => `\`${col}\``,
  placeholder: () => '?',
  lockRowsSuffix: ' FOR UPDATE',
  isRetryable: (err: unknown) => ['ER_DUP_ENTRY', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'].includes(String(causeCode(err))),
})

/** All xCAT tables in one MariaDB/MySQL database, through a connection pool. */
export class MysqlDriver implements TableDriver {
  readonly dialect = MYSQL_DIALECT
  readonly #pool: mysql.Pool
  readonly #database: string

  constructor(config: MysqlConfig) {
    this.#database = config.database
    this.#pool = mysql.createPool({
      host: config.host,
      ...(config.port === undefined ? {} : { port: config.port }),
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: 8,
      connectTimeout: 10_000,
      supportBigNumbers: true,
      dateStrings: true,
    })
  }

  async all(_table: string, sql: string, params: readonly DbValue[] = []): Promise<Row[]> {
    return this.#guard(async () => toRows((await this.#pool.query(sql, params as DbValue[]))[0]))
  }

  async run(_table: string, sql: string, params: readonly DbValue[] = []): Promise<number> {
    return this.#guard(async () => affected((await this.#pool.query(sql, params as DbValue[]))[0]))
  }

  async existingColumns(table: string): Promise<string[] | undefined> {
    const rows = await this.all(table, 'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [table])
    return rows.length === 0 ? undefined : rows.map((r) => String(r.name))
  }

  async transaction<T>(_tables: readonly string[], fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const conn = await this.#guard(() => this.#pool.getConnection())
    try {
      await conn.beginTransaction()
      const tx: SqlExecutor = {
        all: (_t, sql, params = []) => this.#guard(async () => toRows((await conn.query(sql, params as DbValue[]))[0])),
        run: (_t, sql, params = []) => this.#guard(async () => affected((await conn.query(sql, params as DbValue[]))[0])),
      }
      const result = await fn(tx)
      await conn.commit()
      return result
    } catch (err) {
      await conn.rollback().catch(() => undefined)
      throw err
    } finally {
      conn.release()
    }
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }

  async #guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      throw mysqlError(err, this.#database)
    }
  }
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ER_ACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'PROTOCOL_CONNECTION_LOST'])

function mysqlError(err: unknown, database: string): XcatError {
  if (err instanceof XcatError) return err
  const code = String((err as { code?: unknown } | null)?.code ?? '')
  const message = err instanceof Error && err.message ? err.message : code
  if (CONNECT_ERRORS.has(code)) {
    return new XcatError('XCAT_ERR_DB_CONNECT', `Unable to connect to the database ${database}: ${message}`, { cause: err })
  }
  return new XcatError('XCAT_ERR_DB_QUERY', `Database error: ${message}`, { cause: err })
}

function toRows(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : []
}

function affected(result: unknown): number {
  return typeof result === 'object' && result !== null && 'affectedRows' in result ? Number(result.affectedRows) : 0
}
