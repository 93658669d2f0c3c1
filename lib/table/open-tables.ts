import { locateDatabase, parseDbLocation, type DbLocation } from './cfgloc.js'
import type { TableDriver } from './driver.js'
import { MysqlDriver } from './mysql/mysql-driver.js'
import { PostgresDriver } from './postgres/postgres-driver.js'
import { SqliteDriver } from './sqlite/sqlite-driver.js'
import { Tables } from './tables.js'

/** A driver for a parsed database location. */
export function driverFor(location: DbLocation): TableDriver {
  switch (location.kind) {
    case 'sqlite': return new SqliteDriver(location.dir)
    case 'mysql': return new MysqlDriver(location)
    case 'pg': return new PostgresDriver(location)
  }
}

/** Opens the xCAT database the way xCAT finds it (XCATCFG, /etc/xcat/cfgloc, SQLite:/etc/xcat). */
export function openTables(env: NodeJS.ProcessEnv = process.env): Tables {
  return new Tables(driverFor(parseDbLocation(locateDatabase(env))))
}
