import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { driverFor } from '../../lib/table/open-tables.js'
import { parseDbLocation } from '../../lib/table/cfgloc.js'
import { Tables } from '../../lib/table/tables.js'

/** Where the test database servers listen (the machines' local MariaDB and PostgreSQL). */
export const MYSQL_HOST = process.env.XCAT_TEST_MYSQL_HOST ?? '127.0.0.1'
export const PG_HOST = process.env.XCAT_TEST_PG_HOST ?? '127.0.0.1'

/** A fresh, empty database for one test suite. */
export interface TestDatabase {
  readonly backend: 'sqlite' | 'mysql' | 'pg'
  /** The XCATCFG value that selects it. */
  readonly location: string
  open(): Tables
  drop(): Promise<void>
}

/** The backends every integration suite runs against; XCAT_TEST_BACKENDS narrows the list (CI runs all three). */
export const BACKENDS: readonly TestDatabase['backend'][] = (process.env.XCAT_TEST_BACKENDS ?? 'sqlite,mysql,pg').split(',').map((b) => b.trim()) as TestDatabase['backend'][]

/** Creates an empty database on `backend`; fails loudly when the server cannot be reached. */
export async function createTestDatabase(backend: TestDatabase['backend']): Promise<TestDatabase> {
  const name = `xcat_test_${randomBytes(6).toString('hex')}`
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'xcat-sqlite-'))
    const location = `SQLite:${dir}`
    return { backend, location, open: () => new Tables(driverFor(parseDbLocation(location))), drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  if (backend === 'mysql') {
    const admin = await mysql.createConnection({ host: MYSQL_HOST, user: 'root', password: '' })
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const location = `mysql:dbname=${name};host=${MYSQL_HOST}|root|`
    return {
      backend,
      location,
      open: () => new Tables(driverFor(parseDbLocation(location))),
      drop: async () => {
        const c = await mysql.createConnection({ host: MYSQL_HOST, user: 'root', password: '' })
        await c.query(`DROP DATABASE IF EXISTS ${name}`)
        await c.end()
      },
    }
  }
  const admin = new pg.Client({ host: PG_HOST, user: 'postgres', database: 'postgres' })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const location = `Pg:dbname=${name};host=${PG_HOST}|postgres|`
  return {
    backend,
    location,
    open: () => new Tables(driverFor(parseDbLocation(location))),
    drop: async () => {
      const c = new pg.Client({ host: PG_HOST, user: 'postgres', database: 'postgres' })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}
