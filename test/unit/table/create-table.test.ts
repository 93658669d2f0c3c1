import { expect } from 'chai'
import { addColumnSql, createTableSql } from '../../../lib/table/create-table.js'
import { MYSQL_DIALECT } from '../../../lib/table/mysql/mysql-driver.js'
import { POSTGRES_DIALECT } from '../../../lib/table/postgres/postgres-driver.js'
import { tableSpec } from '../../../lib/table/schema.js'
import { SQLITE_DIALECT } from '../../../lib/table/sqlite/sqlite-driver.js'

describe('table/create-table', () => {
  describe('createTableSql', () => {
    it('writes xCAT\'s statement for site on SQLite, with IF NOT EXISTS', () => {
      expect(createTableSql(tableSpec('site'), SQLITE_DIALECT)).to.equal(
        'CREATE TABLE IF NOT EXISTS site (\n  key VARCHAR(128) ,\n  value TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (key)\n)',
      )
    })

    it('quotes columns with backticks on MySQL', () => {
      expect(createTableSql(tableSpec('site'), MYSQL_DIALECT)).to.equal(
        'CREATE TABLE IF NOT EXISTS site (\n  `key` VARCHAR(128) ,\n  `value` TEXT,\n  `comments` TEXT,\n  `disable` TEXT,\n  PRIMARY KEY (`key`)\n)',
      )
    })

    it('quotes columns with double quotes on PostgreSQL', () => {
      expect(createTableSql(tableSpec('site'), POSTGRES_DIALECT)).to.equal(
        'CREATE TABLE IF NOT EXISTS site (\n  "key" VARCHAR(128) ,\n  "value" TEXT,\n  "comments" TEXT,\n  "disable" TEXT,\n  PRIMARY KEY ("key")\n)',
      )
    })

    it('writes every nodelist column in schema order', () => {
      expect(createTableSql(tableSpec('nodelist'), SQLITE_DIALECT)).to.equal(
        'CREATE TABLE IF NOT EXISTS nodelist (\n  node VARCHAR(128) ,\n  groups TEXT,\n  status TEXT,\n  statustime TEXT,\n  appstatus TEXT,\n  appstatustime TEXT,\n' +
          '  primarysn TEXT,\n  hidden TEXT,\n  updatestatus TEXT,\n  updatestatustime TEXT,\n  zonename TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (node)\n)',
      )
    })

    it('uses the schema type VARCHAR(1024) for osimage.osupdatename', () => {
      const sql = createTableSql(tableSpec('osimage'), SQLITE_DIALECT)
      expect(sql).to.include('\n  imagename VARCHAR(128) ,\n')
      expect(sql).to.include('\n  osupdatename VARCHAR(1024),\n')
      expect(sql).to.include('\n  osname TEXT,\n')
      expect(sql.endsWith('  PRIMARY KEY (imagename)\n)')).to.equal(true)
    })

    it('makes both passwd keys VARCHAR(128) and lists them in the primary key', () => {
      expect(createTableSql(tableSpec('passwd'), SQLITE_DIALECT)).to.equal(
        'CREATE TABLE IF NOT EXISTS passwd (\n  key VARCHAR(128) ,\n  username VARCHAR(128) ,\n  password TEXT,\n  cryptmethod TEXT,\n  authdomain TEXT,\n  comments TEXT,\n  disable TEXT,\n  PRIMARY KEY (key,username)\n)',
      )
      expect(createTableSql(tableSpec('passwd'), MYSQL_DIALECT)).to.include('PRIMARY KEY (`key`,`username`)\n)')
      expect(createTableSql(tableSpec('passwd'), POSTGRES_DIALECT)).to.include('PRIMARY KEY ("key","username")\n)')
    })

    it('makes the networks keys net and mask VARCHAR(128), not its first column', () => {
      const sql = createTableSql(tableSpec('networks'), SQLITE_DIALECT)
      expect(sql).to.include('(\n  netname TEXT,\n  net VARCHAR(128) ,\n  mask VARCHAR(128) ,\n')
      expect(sql).to.include('PRIMARY KEY (net,mask)\n)')
    })
  })

  describe('addColumnSql', () => {
    it('adds a missing column with its type, quoted for the dialect', () => {
      expect(addColumnSql(tableSpec('site'), 'comments', SQLITE_DIALECT)).to.equal('ALTER TABLE site ADD comments TEXT')
      expect(addColumnSql(tableSpec('site'), 'comments', MYSQL_DIALECT)).to.equal('ALTER TABLE site ADD `comments` TEXT')
      expect(addColumnSql(tableSpec('site'), 'comments', POSTGRES_DIALECT)).to.equal('ALTER TABLE site ADD "comments" TEXT')
      expect(addColumnSql(tableSpec('osimage'), 'osupdatename', SQLITE_DIALECT)).to.equal('ALTER TABLE osimage ADD osupdatename VARCHAR(1024)')
    })
  })
})
