import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'chai'
import sinon from 'sinon'
import { XcatError } from '../../../lib/errors.js'
import type { Row } from '../../../lib/table/driver.js'
import { SqliteDriver } from '../../../lib/table/sqlite/sqlite-driver.js'
import { isEnabledRow, Tables } from '../../../lib/table/tables.js'

async function rejection(promise: Promise<unknown>): Promise<XcatError> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(XcatError)
    return err as XcatError
  }
  throw new Error('expected a rejection')
}

const byNode = (rows: readonly Row[]) => [...rows].sort((a, b) => String(a.node).localeCompare(String(b.node)))
const nodeName = (i: number) => `n${String(i).padStart(4, '0')}`

describe('table/tables', () => {
  describe('isEnabledRow', () => {
    for (const d of ['0', 'no', 'NO', 'No', 'nO']) {
      it(`takes disable=${JSON.stringify(d)} as enabled`, () => {
        expect(isEnabledRow({ key: 'k', disable: d })).to.equal(true)
      })
    }
    for (const d of ['1', 'yes', 'YES', '', 'n', 'false', ' no']) {
      it(`takes disable=${JSON.stringify(d)} as disabled`, () => {
        expect(isEnabledRow({ key: 'k', disable: d })).to.equal(false)
      })
    }
    it('takes a NULL or missing disable as enabled', () => {
      expect(isEnabledRow({ key: 'k', disable: null })).to.equal(true)
      expect(isEnabledRow({ key: 'k' })).to.equal(true)
    })
  })

  describe('on SQLite', () => {
    let dir: string
    let driver: SqliteDriver
    let tables: Tables

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'xcat-tables-'))
      driver = new SqliteDriver(dir)
      tables = new Tables(driver)
    })
    afterEach(async () => {
      sinon.restore()
      await tables.close()
      rmSync(dir, { recursive: true, force: true })
    })

    it('hides rows with every xCAT disabled spelling and keeps the enabled ones', async () => {
      const spellings: [string, string | null][] = [['null', null], ['0', '0'], ['no', 'no'], ['NO', 'NO'], ['No', 'No'], ['nO', 'nO'], ['1', '1'], ['yes', 'yes'], ['empty', '']]
      await tables.setMany('site', spellings.map(([key, disable]) => ({ keys: { key }, values: { value: 'v', disable } })))
      expect((await tables.getAllEntries('site')).map((r) => r.key)).to.deep.equal(['null', '0', 'no', 'NO', 'No', 'nO'])
      expect(await tables.getAllEntries('site', { includeDisabled: true })).to.have.length(9)
      expect(await tables.getAttribs('site', { key: 'yes' })).to.equal(undefined)
      expect(await tables.getAttribs('site', { key: 'empty' })).to.equal(undefined)
      expect((await tables.getAttribs('site', { key: 'nO' }))?.value).to.equal('v')
      expect((await tables.getRowsIn('site', 'key', ['0', '1', 'empty', 'null'])).map((r) => r.key).sort()).to.deep.equal(['0', 'null'])
    })

    describe('getRowsIn', () => {
      const COUNT = 1000

      beforeEach(async () => {
        await tables.setMany(
          'nodelist',
          Array.from({ length: COUNT }, (_, i) => ({
            keys: { node: nodeName(i) },
            values: { groups: i % 2 ? 'odd,all' : 'even,all', status: i % 3 ? null : 'booted', disable: i % 50 === 7 ? '1' : null },
          })),
        )
      })

      it('gives the same rows above the scan threshold as chunked IN lists below it', async () => {
        const wanted = [...Array.from({ length: 450 }, (_, i) => nodeName(i * 2)), nodeName(7), nodeName(57), 'nosuch', nodeName(0)]
        const scanned = await tables.getRowsIn('nodelist', 'node', wanted)
        const listed: Row[] = []
        for (let i = 0; i < wanted.length; i += 100) listed.push(...(await tables.getRowsIn('nodelist', 'node', wanted.slice(i, i + 100))))
        const unique = [...new Map(listed.map((r) => [r.node, r])).values()]
        expect(byNode(scanned)).to.deep.equal(byNode(unique))
        expect(scanned).to.have.length(450)
        expect(scanned.map((r) => r.node)).to.not.include.members([nodeName(7), nodeName(57), 'nosuch'])
        expect(scanned[0]).to.have.all.keys('node', 'groups', 'status', 'statustime', 'appstatus', 'appstatustime', 'primarysn', 'hidden', 'updatestatus', 'updatestatustime', 'zonename', 'comments', 'disable')
      })

      it('gives the same rows on both paths when only some columns are asked for', async () => {
        const wanted = Array.from({ length: 401 }, (_, i) => nodeName(i + 100))
        const scanned = await tables.getRowsIn('nodelist', 'node', wanted, ['groups', 'status'])
        const listed = [...(await tables.getRowsIn('nodelist', 'node', wanted.slice(0, 200), ['groups', 'status'])), ...(await tables.getRowsIn('nodelist', 'node', wanted.slice(200), ['groups', 'status']))]
        expect(byNode(scanned)).to.deep.equal(byNode(listed))
        expect(scanned).to.have.length(401 - 8)
        expect(scanned.find((r) => r.node === nodeName(102))).to.deep.equal({ node: nodeName(102), groups: 'even,all', status: 'booted', disable: null })
      })

      it('reads every value of a list longer than one IN chunk below the scan threshold', async () => {
        const spy = sinon.spy(driver, 'all')
        const wanted = Array.from({ length: 400 }, (_, i) => nodeName(i))
        const rows = await tables.getRowsIn('nodelist', 'node', wanted)
        expect(rows).to.have.length(400 - 8)
        expect(spy.callCount).to.equal(1)
      })

      it('never matches NULL with an empty value, on either path', async () => {
        await tables.setAttribs('nodelist', { node: 'nogroups' }, { status: 'x' })
        const few = await tables.getRowsIn('nodelist', 'groups', ['', 'even,all'])
        const many = await tables.getRowsIn('nodelist', 'groups', ['', 'even,all', ...Array.from({ length: 400 }, (_, i) => `g${i}`)])
        expect(few).to.have.length(500)
        expect(byNode(many)).to.deep.equal(byNode(few))
      })

      it('returns nothing for no values', async () => {
        expect(await tables.getRowsIn('nodelist', 'node', [])).to.deep.equal([])
      })
    })

    describe('delEntries', () => {
      beforeEach(async () => {
        await tables.setMany(
          'nodelist',
          Array.from({ length: 900 }, (_, i) => ({ keys: { node: nodeName(i) }, values: { groups: i < 450 ? 'a' : 'b' } })),
        )
      })

      it('deletes many single-key sets through IN lists, across chunks', async () => {
        const spy = sinon.spy(driver, 'transaction')
        const sets = Array.from({ length: 850 }, (_, i) => ({ node: nodeName(i) }))
        expect(await tables.delEntries('nodelist', [...sets, { node: 'nosuch' }])).to.equal(850)
        expect((await tables.getAllEntries('nodelist', { includeDisabled: true })).map((r) => r.node)).to.deep.equal(Array.from({ length: 50 }, (_, i) => nodeName(850 + i)))
        expect(spy.callCount).to.equal(1)
      })

      it('deletes key sets with mixed columns one set at a time, ANDing the keys of each', async () => {
        const deleted = await tables.delEntries('nodelist', [{ node: nodeName(0) }, { node: nodeName(1), groups: 'b' }, { node: nodeName(2), groups: 'a' }, { groups: 'b' }])
        expect(deleted).to.equal(2 + 450)
        const left = (await tables.getAllEntries('nodelist')).map((r) => r.node)
        expect(left).to.have.length(448)
        expect(left).to.include(nodeName(1))
        expect(left).to.not.include.members([nodeName(0), nodeName(2)])
      })

      it('matches NULL for a null key value', async () => {
        await tables.setAttribs('site', { key: 'a' }, { value: null, comments: 'x' })
        await tables.setAttribs('site', { key: 'b' }, { value: 'v' })
        expect(await tables.delEntries('site', [{ value: null }, { key: 'nosuch' }])).to.equal(1)
        expect((await tables.getAllEntries('site')).map((r) => r.key)).to.deep.equal(['b'])
      })

      it('deletes every row when no key sets are given', async () => {
        expect(await tables.delEntries('nodelist')).to.equal(900)
        expect(await tables.getAllEntries('nodelist', { includeDisabled: true })).to.deep.equal([])
      })

      it('deletes nothing for an empty list of key sets', async () => {
        expect(await tables.delEntries('nodelist', [])).to.equal(0)
        expect(await tables.getAllEntries('nodelist')).to.have.length(900)
      })
    })

    describe('insert', () => {
      it('inserts the given values as they are, NULL and empty apart', async () => {
        await tables.insert('site', { key: 'k', value: '', comments: null })
        expect(await tables.getAllEntries('site')).to.deep.equal([{ key: 'k', value: '', comments: null, disable: null }])
      })

      it('fails on a duplicate key instead of updating', async () => {
        await tables.insert('site', { key: 'k', value: 'first' })
        const err = await rejection(tables.insert('site', { key: 'k', value: 'second' }))
        expect(err.code).to.equal('XCAT_ERR_DB_QUERY')
        expect(err.message).to.equal('Database error: UNIQUE constraint failed: site.key')
        expect(await tables.site('k')).to.equal('first')
      })

      it('fails on a duplicate pair of keys in a two-key table only', async () => {
        await tables.insert('passwd', { key: 'system', username: 'root', password: 'a' })
        await tables.insert('passwd', { key: 'system', username: 'admin', password: 'b' })
        const err = await rejection(tables.insert('passwd', { key: 'system', username: 'root', password: 'c' }))
        expect(err.message).to.equal('Database error: UNIQUE constraint failed: passwd.key, passwd.username')
      })
    })

    describe('setMany', () => {
      it('runs all writes in one transaction', async () => {
        const spy = sinon.spy(driver, 'transaction')
        await tables.setMany('site', Array.from({ length: 100 }, (_, i) => ({ keys: { key: `k${i}` }, values: { value: String(i) } })))
        expect(spy.callCount).to.equal(1)
        expect(await tables.getAllEntries('site')).to.have.length(100)
      })

      it('updates a matching row and inserts a missing one', async () => {
        await tables.setAttribs('site', { key: 'a' }, { value: '1', comments: 'keep' })
        await tables.setMany('site', [
          { keys: { key: 'a' }, values: { value: '2' } },
          { keys: { key: 'b' }, values: { value: '3' } },
        ])
        expect(await tables.getAllEntries('site')).to.deep.equal([
          { key: 'a', value: '2', comments: 'keep', disable: null },
          { key: 'b', value: '3', comments: null, disable: null },
        ])
      })

      it('writes nothing when one write fails', async () => {
        await tables.setAttribs('site', { key: 'taken' }, { value: 'old' })
        const err = await rejection(
          tables.setMany('site', [
            { keys: { key: 'new1' }, values: { value: '1' } },
            { keys: { key: 'taken' }, values: { value: 'changed' } },
            { keys: { value: 'nosuch' }, values: { key: 'taken' } },
          ]),
        )
        expect(err.code).to.equal('XCAT_ERR_DB_QUERY')
        expect(await tables.getAllEntries('site')).to.deep.equal([{ key: 'taken', value: 'old', comments: null, disable: null }])
      })
    })

    describe('checkColumns', () => {
      it('rejects an unknown column with XCAT_ERR_NO_COLUMN before writing anything', async () => {
        const err = await rejection(tables.setMany('site', [{ keys: { key: 'a' }, values: { value: '1' } }, { keys: { key: 'b' }, values: { nosuch: '1' } }]))
        expect(err.code).to.equal('XCAT_ERR_NO_COLUMN')
        expect(err.errorcode).to.equal(1)
        expect(err.message).to.equal('No column "nosuch" in table "site"')
        expect(await tables.getAllEntries('site')).to.deep.equal([])
      })

      it('checks the columns of every kind of read and write', async () => {
        const code = async (p: Promise<unknown>) => (await rejection(p)).code
        expect(await code(tables.getRows('site', { nosuch: 'x' }))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.getRowsIn('site', 'nosuch', ['x']))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.getRowsIn('site', 'key', ['x'], ['nosuch']))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.getAllEntries('site', { columns: ['nosuch'] }))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.insert('site', { key: 'k', nosuch: 'x' }))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.delEntries('site', [{ nosuch: 'x' }]))).to.equal('XCAT_ERR_NO_COLUMN')
        expect(await code(tables.getNodesAttribs('nodehm', ['n1'], ['nosuch']))).to.equal('XCAT_ERR_NO_COLUMN')
      })

      it('rejects an unknown table with XCAT_ERR_NO_TABLE and creates no file for it', async () => {
        const err = await rejection(tables.getAllEntries('nosuchtable'))
        expect(err.code).to.equal('XCAT_ERR_NO_TABLE')
        expect(err.message).to.equal('No such table: nosuchtable')
        expect((await rejection(tables.setAttribs('nosuchtable', { key: 'a' }, { value: 'b' }))).code).to.equal('XCAT_ERR_NO_TABLE')
        expect((await rejection(tables.columns('nosuchtable'))).code).to.equal('XCAT_ERR_NO_TABLE')
        expect(existsSync(join(dir, 'nosuchtable.sqlite'))).to.equal(false)
      })
    })

    describe('columns', () => {
      it('lists the schema columns of a table it creates', async () => {
        expect(await tables.columns('site')).to.deep.equal(['key', 'value', 'comments', 'disable'])
      })

      it('keeps the existing order of an older table and appends the columns it lacks in schema order', async () => {
        await tables.close()
        const old = new Database(join(dir, 'nodelist.sqlite'))
        old.exec('CREATE TABLE nodelist (\n  node VARCHAR(128) ,\n  groups TEXT,\n  disable TEXT,\n  status TEXT,\n  legacy TEXT,\n  PRIMARY KEY (node)\n)')
        old.prepare('INSERT INTO nodelist (node, groups, status, legacy) VALUES (?, ?, ?, ?)').run('n1', 'all', 'booted', 'x')
        old.close()
        tables = new Tables(new SqliteDriver(dir))
        const expected = ['node', 'groups', 'disable', 'status', 'legacy', 'statustime', 'appstatus', 'appstatustime', 'primarysn', 'hidden', 'updatestatus', 'updatestatustime', 'zonename', 'comments']
        expect(await tables.columns('nodelist')).to.deep.equal(expected)
        const check = new Database(join(dir, 'nodelist.sqlite'), { readonly: true })
        try {
          expect((check.pragma('table_info(nodelist)') as { name: string }[]).map((c) => c.name)).to.deep.equal(expected)
        } finally {
          check.close()
        }
        expect(await tables.getAttribs('nodelist', { node: 'n1' })).to.include({ node: 'n1', groups: 'all', status: 'booted', legacy: 'x', zonename: null })
      })
    })
  })
})
