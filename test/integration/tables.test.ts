import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import type { DbValue, Row, SqlExecutor, TableDriver } from '../../lib/table/driver.js'
import { Tables } from '../../lib/table/tables.js'
import { BACKENDS, createTestDatabase, type TestDatabase } from '../helpers/databases.js'

const run = promisify(execFile)

/** Wraps a driver and counts the queries it runs (the real driver still runs them). */
function countingDriver(inner: TableDriver): TableDriver & { queries: number } {
  const counted = {
    queries: 0,
    dialect: inner.dialect,
    all: (t: string, sql: string, p?: readonly DbValue[]): Promise<Row[]> => {
      counted.queries++
      return inner.all(t, sql, p)
    },
    run: (t: string, sql: string, p?: readonly DbValue[]) => inner.run(t, sql, p),
    existingColumns: (t: string) => inner.existingColumns(t),
    transaction: <T>(tables: readonly string[], fn: (tx: SqlExecutor) => Promise<T>) => inner.transaction(tables, fn),
    close: () => inner.close(),
  }
  return counted
}

for (const backend of BACKENDS) {
  describe(`${backend}: table access`, function () {
    let db: TestDatabase
    let tables: Tables

    before(async () => {
      db = await createTestDatabase(backend)
      tables = db.open()
    })
    after(async () => {
      await tables.close()
      await db.drop()
    })

    it('creates a table on first use with xCAT columns and keeps NULL apart from empty', async () => {
      await tables.setAttribs('site', { key: 'master' }, { value: '10.0.0.1' })
      await tables.setAttribs('site', { key: 'empty' }, { value: '' })
      await tables.setAttribs('site', { key: 'nothing' }, { comments: 'x' })
      expect(await tables.columns('site')).to.deep.equal(['key', 'value', 'comments', 'disable'])
      expect((await tables.getAttribs('site', { key: 'empty' }))?.value).to.equal('')
      expect((await tables.getAttribs('site', { key: 'nothing' }))?.value).to.equal(null)
      expect(await tables.site('master')).to.equal('10.0.0.1')
    })

    it('updates the matching row instead of inserting another', async () => {
      await tables.setAttribs('site', { key: 'master' }, { value: '10.0.0.2' })
      const rows = (await tables.getAllEntries('site')).filter((r) => r.key === 'master')
      expect(rows).to.have.length(1)
      expect(rows[0]?.value).to.equal('10.0.0.2')
    })

    it('writes many nodes in batches: existing rows updated column by column, missing rows inserted, in few queries', async () => {
      const nodes = Array.from({ length: 1000 }, (_, i) => `bulk${i}`)
      await tables.setNodesAttribs('nodehm', new Map(nodes.filter((_, i) => i % 2 === 0).map((n) => [n, { mgt: 'old', power: 'keep' }])))
      const counted = new Tables(countingDriver(tables.driver))
      await counted.setNodesAttribs('nodehm', new Map(nodes.map((n, i) => [n, i % 3 === 0 ? { mgt: `m${i}` } : { mgt: 'ipmi', cons: 'ipmi' }])))
      const rows = await tables.getNodesAttribs('nodehm', nodes, ['mgt', 'cons', 'power'])
      expect(rows.get('bulk0')).to.deep.equal({ mgt: 'm0', power: 'keep' })
      expect(rows.get('bulk2')).to.deep.equal({ mgt: 'ipmi', cons: 'ipmi', power: 'keep' })
      expect(rows.get('bulk1')).to.deep.equal({ mgt: 'ipmi', cons: 'ipmi' })
      expect(rows.get('bulk3')).to.deep.equal({ mgt: 'm3' })
      expect(rows.size).to.equal(1000)
      expect((await tables.getAllEntries('nodehm')).filter((r) => r.node?.startsWith('bulk'))).to.have.length(1000)
      expect((counted.driver as ReturnType<typeof countingDriver>).queries).to.be.at.most(5)
    })

    it('hides disabled rows except from getAllEntries with includeDisabled', async () => {
      await tables.setAttribs('site', { key: 'off' }, { value: 'v', disable: '1' })
      await tables.setAttribs('site', { key: 'on' }, { value: 'v', disable: 'no' })
      expect(await tables.getAttribs('site', { key: 'off' })).to.equal(undefined)
      expect(await tables.getAttribs('site', { key: 'on' })).to.not.equal(undefined)
      expect((await tables.getAllEntries('site', { includeDisabled: true })).map((r) => r.key)).to.include('off')
    })

    it('inherits node attributes from groups in nodelist.groups order and translates regex values', async () => {
      await tables.setMany('nodelist', [
        { keys: { node: 'node05' }, values: { groups: 'rack1,compute,all' } },
        { keys: { node: 'node06' }, values: { groups: 'compute,all' } },
      ])
      await tables.setMany('noderes', [
        { keys: { node: 'compute' }, values: { netboot: 'xnba', xcatmaster: '|\\D+(\\d+)|10.0.0.($1+0)|', tftpserver: 'mn' } },
        { keys: { node: 'rack1' }, values: { netboot: 'grub2', tftpserver: '' } },
        { keys: { node: 'all' }, values: { nfsserver: 'nfs1' } },
        { keys: { node: 'node06' }, values: { netboot: 'pxe' } },
      ])
      const attrs = await tables.getNodesAttribs('noderes', ['node05', 'node06', 'nosuch'], ['netboot', 'xcatmaster', 'tftpserver', 'nfsserver'])
      expect(attrs.get('node05')).to.deep.equal({ netboot: 'grub2', xcatmaster: '10.0.0.5', tftpserver: 'mn', nfsserver: 'nfs1' })
      expect(attrs.get('node06')).to.deep.equal({ netboot: 'pxe', xcatmaster: '10.0.0.6', tftpserver: 'mn', nfsserver: 'nfs1' })
      expect(attrs.has('nosuch')).to.equal(false)
    })

    it('concatenates site.hierarchicalattrs values from node and groups', async () => {
      await tables.setAttribs('site', { key: 'hierarchicalattrs' }, { value: 'postscripts' })
      await tables.setMany('postscripts', [
        { keys: { node: 'node05' }, values: { postscripts: 'z,a' } },
        { keys: { node: 'rack1' }, values: { postscripts: 'a,b' } },
        { keys: { node: 'compute' }, values: { postscripts: 'b,c' } },
      ])
      expect((await tables.getNodeAttribs('postscripts', 'node05', ['postscripts']))?.postscripts).to.equal('z,a,b,c')
      await tables.delEntries('site', [{ key: 'hierarchicalattrs' }])
      expect((await tables.getNodeAttribs('postscripts', 'node05', ['postscripts']))?.postscripts).to.equal('z,a')
    })

    it('rolls back every table of a failed transaction', async () => {
      let caught: unknown
      try {
        await tables.transaction(['nodelist', 'nodetype'], async (tx) => {
          await tx.setAttribs('nodelist', { node: 'ghost' }, { groups: 'all' })
          await tx.setAttribs('nodetype', { node: 'ghost' }, { os: 'rhels9' })
          throw new Error('stop')
        })
      } catch (err) {
        caught = err
      }
      expect((caught as Error).message).to.equal('stop')
      expect(await tables.getAttribs('nodelist', { node: 'ghost' })).to.equal(undefined)
      expect(await tables.getAttribs('nodetype', { node: 'ghost' })).to.equal(undefined)
    })

    it('reads 2,000 nodes with group inheritance in a bounded number of queries', async () => {
      const nodes = Array.from({ length: 2000 }, (_, i) => `n${String(i).padStart(4, '0')}`)
      await tables.setMany('nodelist', nodes.map((node, i) => ({ keys: { node }, values: { groups: `rack${i % 10},compute,all` } })))
      await tables.setMany('nodehm', [{ keys: { node: 'compute' }, values: { mgt: 'ipmi', serialspeed: '115200' } }, { keys: { node: 'rack3' }, values: { mgt: 'kvm' } }])
      const counted = countingDriver(tables.driver)
      const view = new Tables(counted)
      const attrs = await view.getNodesAttribs('nodehm', nodes, ['mgt', 'serialspeed'])
      expect(attrs.get('n0003')).to.deep.equal({ mgt: 'kvm', serialspeed: '115200' })
      expect(attrs.get('n0004')).to.deep.equal({ mgt: 'ipmi', serialspeed: '115200' })
      expect(counted.queries).to.be.at.most(5)
    })

    it('adds columns missing from an older table', async () => {
      await tables.driver.run('chain', 'CREATE TABLE chain (node VARCHAR(128), currstate TEXT, PRIMARY KEY (node))')
      const fresh = db.open()
      try {
        await fresh.setAttribs('chain', { node: 'n1' }, { currchain: 'boot' })
        expect(await fresh.columns('chain')).to.deep.equal(['node', 'currstate', 'currchain', 'chain', 'ondiscover', 'comments', 'disable'])
        expect((await fresh.getAttribs('chain', { node: 'n1' }))?.currchain).to.equal('boot')
      } finally {
        await fresh.close()
      }
    })

    it('loses no write when several processes write at once', async function () {
      this.timeout(120_000)
      const writer = join(import.meta.dirname, '..', 'helpers', 'concurrent-writer.ts')
      const procs = [0, 1, 2, 3].map((id) => run(process.execPath, ['--import', 'tsx', writer, db.location, String(id), '40'], { cwd: join(import.meta.dirname, '..', '..') }))
      await Promise.all(procs)
      const rows = (await tables.getAllEntries('site')).filter((r) => r.key?.startsWith('w'))
      expect(rows).to.have.length(160)
      for (let i = 0; i < 40; i++) expect((await tables.getAttribs('site', { key: `race${i}` }))?.value?.split(',').sort(), `race${i}`).to.deep.equal(['p0', 'p1', 'p2', 'p3'])
      const shared = (await tables.getAttribs('site', { key: 'shared' }))?.value?.split(',') ?? []
      expect(shared.sort()).to.deep.equal(Array.from({ length: 4 }, (_, id) => Array.from({ length: 40 }, (_, i) => `p${id}i${i}`)).flat().sort())
    })
  })
}
