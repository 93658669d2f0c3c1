/** A database value: xCAT keeps every column as text and distinguishes NULL from ''. */
export type DbValue = string | null

/** One row, column name to value. */
export type Row = Record<string, DbValue>

/** Runs SQL against the database that holds `table`. */
export interface SqlExecutor {
  /** Rows of a query. */
  all(table: string, sql: string, params?: readonly DbValue[]): Promise<Row[]>
  /** Runs a statement and returns the number of rows it changed. */
  run(table: string, sql: string, params?: readonly DbValue[]): Promise<number>
}

/** SQL spelling that differs between databases. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'mysql' | 'pg'
  /** Quotes a column name the way xCAT delimits columns for this database. */
  quoteColumn(col: string): string
  /** Placeholder for the parameter at 1-based `index`. */
  placeholder(index: number): string
  /** Suffix that locks the selected rows for the rest of a transaction ('' where writers are serialized anyway). */
  readonly lockRowsSuffix: string
  /** True when a transaction failed only because a concurrent writer won a race; running it again can succeed. */
  isRetryable(err: unknown): boolean
}

/** A connection to one xCAT database (all tables). */
export interface TableDriver extends SqlExecutor {
  readonly dialect: SqlDialect
  /** Column names of `table` as they exist, or undefined when the table does not exist. */
  existingColumns(table: string): Promise<string[] | undefined>
  /** Runs `fn` in one transaction spanning `tables`; commits when it resolves, rolls back when it throws. */
  transaction<T>(tables: readonly string[], fn: (tx: SqlExecutor) => Promise<T>): Promise<T>
  /** Closes every connection. */
  close(): Promise<void>
}

/** The driver's error code behind an error, looking through the causes our errors wrap. */
export function causeCode(err: unknown): unknown {
  let e: unknown = err
  for (let depth = 0; depth < 5 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && !code.startsWith('XCAT_ERR_')) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}
