import { join } from 'node:path'
import { expect } from 'chai'
import { DEFAULT_PLUGIN_DIR } from '../../lib/server/plugin-registry.js'
import type { Tables } from '../../lib/table/tables.js'
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js'
import { createTestCredentials, initTestDatabase, startTestDaemon, type TestCredentials, type TestDaemon } from '../helpers/daemon.js'

const TEST_PLUGINS = join(import.meta.dirname, '..', 'fixtures', 'plugins')

for (const backend of ['pg', 'mysql'] as const) {
  describe(`${backend}: hierarchy between two xcatd sharing one database`, function () {
    this.timeout(60_000)
    let db: TestDatabase
    let mnTables: Tables
    let snTables: Tables
    let creds: TestCredentials
    let mn: TestDaemon
    let sn: TestDaemon

    before(async () => {
      db = await createTestDatabase(backend)
      mnTables = db.open()
      snTables = db.open()
      creds = await createTestCredentials()
      await initTestDatabase(mnTables, creds.confdir)
      await mnTables.setMany('nodelist', ['cn1', 'cn2'].map((node) => ({ keys: { node }, values: { groups: 'compute,all' } })))
      mn = await startTestDaemon(mnTables, { confdir: creds.confdir, name: 'mn', pluginDirs: [DEFAULT_PLUGIN_DIR, TEST_PLUGINS] })
      sn = await startTestDaemon(snTables, { confdir: creds.confdir, name: 'sn1', pluginDirs: [DEFAULT_PLUGIN_DIR, TEST_PLUGINS] })
    })
    after(async () => {
      await mn.stop()
      await sn.stop()
      await mnTables.close()
      await snTables.close()
      await db.drop()
      creds.remove()
    })

    it('runs a request on the service node _xcatdest names, as the trusted management node, and relays its answer', async () => {
      const res = await mn.run(creds.rootHome, 'xcatclient', ['hiercmd', 'cn1,cn2', `127.0.0.1:${sn.port}`])
      expect(res).to.deep.equal({ code: 0, stdout: 'hiercmd ran for mn-test nodes=cn1,cn2\n', stderr: '' })
    })

    it('tries each destination of an anycast list until one answers', async () => {
      const res = await mn.run(creds.rootHome, 'xcatclient', ['hiercmd', 'cn1', `127.0.0.1:1,127.0.0.1:${sn.port}`])
      expect(res.stdout).to.equal('hiercmd ran for mn-test nodes=cn1\n')
    })

    it('says which service node could not be reached', async () => {
      const res = await mn.run(creds.rootHome, 'xcatclient', ['hiercmd', 'cn1', '127.0.0.1:1'])
      expect(res.code).to.equal(1)
      expect(res.stderr).to.match(/^Error: \[mn\]: Unable to dispatch hierarchical sub-command to 127\.0\.0\.1:1\. Error: .*ECONNREFUSED/)
    })

    it('keeps the service node as the source of the messages it relays', async () => {
      const res = await mn.run(creds.rootHome, 'xcatclient', ['hiercmd', 'cn2', `127.0.0.1:${sn.port}`, 'fail'])
      expect(res).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: [sn1]: workers: failed on the service node [nodes: cn2]\n' })
    })
  })
}
