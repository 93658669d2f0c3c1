import pg from 'pg'
import { XcatError } from '../../errors.js'
import { causeCode, type DbValue, type Row, type SqlDialect, type SqlExecutor, type TableDriver } from '../driver.js'

/** Connection settings of a PostgreSQL database. */
export interface PostgresConfig {
  readonly host: string
  readonly port?: number
  readonly database: string
  readonly user: string
  readonly password: string
}

/** PostgreSQL spelling: double-quoted columns as xCAT delimits them, `$n` placeholders, FOR UPDATE row locks. */
export const POSTGRES_DIALECT: SqlDialect = Object.freeze({
  name: 'pg' as const,
  quoteColumn: (col: string) => `"${col}"`,
  placeholder: (index: number) => `$${index}`,
  lockRowsSuffix: ' FOR UPDATE',
  isRetryable: (err: unknown) => ['23505', '40001', '40P01'].includes(String(causeCode(err))),
})

/** All xCAT tables in one PostgreSQL database, through a connection pool. */
export class PostgresDriver implements TableDriver {
  readonly dialect = POSTGRES_DIALECT
  readonly #pool: pg.Pool
  readonly #database: string

  constructor(config: PostgresConfig) {
    this.#database = config.database
    this.#pool = new pg.Pool({
      host: config.host,
      ...(config.port === undefined ? {} : { port: config.port }),
      user: config.user || undefined,
      password: config.password,
      database: config.database,
      max: 8,
      connectionTimeoutMillis: 10_000,
    })
    this.#pool.on('error', () => undefined)
  }

  async all(_table: string, sql: string, params: readonly DbValue[] = []): Promise<Row[]> {
    return this.#guard(async () => (await this.#pool.query(sql, params as DbValue[])).rows as Row[])
  }

  async run(_table: string, sql: string, params: readonly DbValue[] = []): Promise<number> {
    return this.#guard(async () => (await this.#pool.query(sql, params as DbValue[])).rowCount ?? 0)
  }

  async existingColumns(table: string): Promise<string[] | undefined> {
    const rows = await this.all(table, 'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position', [table])
    return rows.length === 0 ? undefined : rows.map((r) => String(r.name))
  }

  async transaction<T>(_tables: readonly string[], fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.#guard(() => this.#pool.connect())
    try {
      await client.query('BEGIN')
      const tx: SqlExecutor = {
        all: (_t, sql, params = []) => this.#guard(async () => (await client.query(sql, params as DbValue[])).rows as Row[]),
        run: (_t, sql, params = []) => this.#guard(async () => (await client.query(sql, params as DbValue[])).rowCount ?? 0),
      }
      const result = await fn(tx)
      await client.query('COMMIT')
      return result
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.release()
    }
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }

  async #guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (err) {
      throw postgresError(err, this.#database)
    }
  }
}

function postgresError(err: unknown, database: string): XcatError {
  if (err instanceof XcatError) return err
  const code = String((err as { code?: unknown } | null)?.code ?? '')
  const message = err instanceof Error && err.message ? err.message : code
  // Class 08 is connection exceptions, 28 authorization, 3D an unknown database; the rest are Node socket errors.
  if (/^(08|28|3D)/.test(code) || /^E[A-Z]+$/.test(code) || /timeout|terminated/i.test(message)) {
    return new XcatError('XCAT_ERR_DB_CONNECT', `Unable to connect to the database ${database}: ${message}`, { cause: err })
  }
  return new XcatError('XCAT_ERR_DB_QUERY', `Database error: ${message}`, { cause: err })
}
