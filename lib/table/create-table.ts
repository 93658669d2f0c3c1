import type { SqlDialect } from './driver.js'
import type { TableSpec } from './schema.js'

/** xCAT's buildcreatestmt: TEXT columns, VARCHAR(128) keys, PRIMARY KEY last; IF NOT EXISTS so racing creators agree. */
export function createTableSql(spec: TableSpec, dialect: SqlDialect): string {
  const cols = spec.cols.map((col) => {
    const declared = spec.types[col] ?? 'TEXT'
    const type = declared === 'TEXT' && spec.keys.includes(col) ? 'VARCHAR(128) ' : declared
    return `${dialect.quoteColumn(col)} ${type},\n  `
  })
  const keys = spec.keys.map((k) => dialect.quoteColumn(k)).join(',')
  return `CREATE TABLE IF NOT EXISTS ${spec.name} (\n  ${cols.join('')}PRIMARY KEY (${keys})\n)`
}

/** The statement that adds a column missing from an older table (xCAT's updateschema). */
export function addColumnSql(spec: TableSpec, col: string, dialect: SqlDialect): string {
  return `ALTER TABLE ${spec.name} ADD ${dialect.quoteColumn(col)} ${spec.types[col] ?? 'TEXT'}`
}
