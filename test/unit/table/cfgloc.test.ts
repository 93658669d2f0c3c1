import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { XcatError } from '../../../lib/errors.js'
import { CFGLOC_PATH, DEFAULT_SQLITE_DIR, locateDatabase, parseDbLocation } from '../../../lib/table/cfgloc.js'

function configError(location: string): XcatError {
  try {
    parseDbLocation(location)
  } catch (err) {
    expect(err).to.be.instanceOf(XcatError)
    return err as XcatError
  }
  throw new Error(`expected ${location} to be rejected`)
}

describe('table/cfgloc', () => {
  describe('locateDatabase', () => {
    let dir: string
    let cfgloc: string

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'xcat-cfgloc-'))
      cfgloc = join(dir, 'cfgloc')
    })
    afterEach(() => rmSync(dir, { recursive: true, force: true }))

    it('reads /etc/xcat/cfgloc by default and falls back to SQLite in /etc/xcat', () => {
      expect(CFGLOC_PATH).to.equal('/etc/xcat/cfgloc')
      expect(DEFAULT_SQLITE_DIR).to.equal('/etc/xcat')
      const expected = existsSync(CFGLOC_PATH) ? readFileSync(CFGLOC_PATH, 'utf8').split('\n')[0]?.trim() || 'SQLite:/etc/xcat' : 'SQLite:/etc/xcat'
      expect(locateDatabase({})).to.equal(expected)
      expect(locateDatabase({ XCATCFG: 'SQLite:/x' })).to.equal('SQLite:/x')
    })

    it('uses XCATCFG from the environment before the cfgloc file', () => {
      writeFileSync(cfgloc, 'mysql:dbname=xcatdb;host=db1|xcatadmin|pw\n')
      expect(locateDatabase({ XCATCFG: 'SQLite:/tmp/xcatdb' }, cfgloc)).to.equal('SQLite:/tmp/xcatdb')
    })

    it('trims XCATCFG and ignores it when blank', () => {
      writeFileSync(cfgloc, 'Pg:dbname=xcatdb;host=db1|postgres|\n')
      expect(locateDatabase({ XCATCFG: '  SQLite:/x  ' }, cfgloc)).to.equal('SQLite:/x')
      expect(locateDatabase({ XCATCFG: '' }, cfgloc)).to.equal('Pg:dbname=xcatdb;host=db1|postgres|')
      expect(locateDatabase({ XCATCFG: '   ' }, cfgloc)).to.equal('Pg:dbname=xcatdb;host=db1|postgres|')
    })

    it('takes the first line of the cfgloc file', () => {
      writeFileSync(cfgloc, 'mysql:dbname=xcatdb;host=10.0.0.1|xcatadmin|secret\nsecond line\n')
      expect(locateDatabase({}, cfgloc)).to.equal('mysql:dbname=xcatdb;host=10.0.0.1|xcatadmin|secret')
    })

    it('accepts a cfgloc file without a final newline', () => {
      writeFileSync(cfgloc, 'SQLite:/var/lib/xcat')
      expect(locateDatabase({}, cfgloc)).to.equal('SQLite:/var/lib/xcat')
    })

    it('defaults to SQLite:/etc/xcat when the cfgloc file is missing', () => {
      expect(locateDatabase({}, join(dir, 'nosuchfile'))).to.equal('SQLite:/etc/xcat')
    })

    it('defaults to SQLite:/etc/xcat when the first line of cfgloc is empty', () => {
      writeFileSync(cfgloc, '\nmysql:dbname=x|u|p\n')
      expect(locateDatabase({}, cfgloc)).to.equal('SQLite:/etc/xcat')
    })
  })

  describe('parseDbLocation', () => {
    it('parses SQLite:/dir', () => {
      expect(parseDbLocation('SQLite:/etc/xcat')).to.deep.equal({ kind: 'sqlite', dir: '/etc/xcat' })
    })

    it('treats a value without : as an SQLite directory', () => {
      expect(parseDbLocation('/var/lib/xcat')).to.deep.equal({ kind: 'sqlite', dir: '/var/lib/xcat' })
    })

    it('ignores case in the type', () => {
      expect(parseDbLocation('sqlite:/x')).to.deep.equal({ kind: 'sqlite', dir: '/x' })
      expect(parseDbLocation('MySQL:dbname=d|u|p')).to.include({ kind: 'mysql' })
      expect(parseDbLocation('pg:dbname=d|u|p')).to.include({ kind: 'pg' })
    })

    it('parses mysql with host, user and password, without a port', () => {
      expect(parseDbLocation('mysql:dbname=xcatdb;host=10.0.0.1|xcatadmin|secret')).to.deep.equal({
        kind: 'mysql',
        database: 'xcatdb',
        host: '10.0.0.1',
        user: 'xcatadmin',
        password: 'secret',
      })
    })

    it('parses mysql with a port', () => {
      expect(parseDbLocation('mysql:dbname=xcatdb;host=db1;port=3307|root|')).to.deep.equal({
        kind: 'mysql',
        database: 'xcatdb',
        host: 'db1',
        port: 3307,
        user: 'root',
        password: '',
      })
    })

    it('parses Pg and defaults the host to localhost', () => {
      expect(parseDbLocation('Pg:dbname=xcatdb;host=10.0.0.2|xcatadm|pw')).to.deep.equal({
        kind: 'pg',
        database: 'xcatdb',
        host: '10.0.0.2',
        user: 'xcatadm',
        password: 'pw',
      })
      expect(parseDbLocation('Pg:dbname=xcatdb|postgres|')).to.deep.equal({ kind: 'pg', database: 'xcatdb', host: 'localhost', user: 'postgres', password: '' })
    })

    it('keeps | inside the password', () => {
      expect(parseDbLocation('Pg:dbname=d;host=h|u|a|b')).to.include({ password: 'a|b' })
    })

    it('accepts database= for dbname and option names in any case', () => {
      expect(parseDbLocation('mysql:database=xcatdb;HOST=h|u|p')).to.include({ database: 'xcatdb', host: 'h' })
    })

    it('rejects an unknown database type', () => {
      const err = configError('DB2:dbname=x|u|p')
      expect(err.code).to.equal('XCAT_ERR_DB_CONFIG')
      expect(err.errorcode).to.equal(1)
      expect(err.message).to.equal('Invalid database configuration: unsupported database type "DB2" in DB2:dbname=x|u|p')
    })

    it('rejects a mysql or Pg location without dbname', () => {
      expect(configError('mysql:host=h|u|p').message).to.equal('Invalid database configuration: no dbname in mysql location')
      expect(configError('Pg:host=h;dbname=|u|p').message).to.equal('Invalid database configuration: no dbname in pg location')
    })

    it('rejects a port that is not a number from 1 to 65535', () => {
      for (const port of ['abc', '0', '65536', '3.5', '-1']) {
        const err = configError(`mysql:dbname=d;host=h;port=${port}|u|p`)
        expect(err.code).to.equal('XCAT_ERR_DB_CONFIG')
        expect(err.message, port).to.equal(`Invalid database configuration: bad port "${port}" in mysql location`)
      }
    })

    it('rejects a relative SQLite directory', () => {
      const err = configError('SQLite:etc/xcat')
      expect(err.code).to.equal('XCAT_ERR_DB_CONFIG')
      expect(err.message).to.equal('Invalid database configuration: SQLite location must be an absolute directory: SQLite:etc/xcat')
      expect(configError('relative/dir').message).to.equal('Invalid database configuration: SQLite location must be an absolute directory: relative/dir')
    })
  })
})
