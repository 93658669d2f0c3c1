import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { useTestDaemon } from '../helpers/daemon.js'
import { monitorExchange } from '../helpers/install-monitor.js'

describe('install monitor (site.xcatiport)', function () {
  this.timeout(30_000)
  const tftpdir = mkdtempSync(join(tmpdir(), 'xcat-monitor-tftp-'))
  after(() => rmSync(tftpdir, { recursive: true, force: true }))
  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setAttribs('nodelist', { node: 'cn1' }, { groups: 'compute,all' })
      await tables.setAttribs('chain', { node: 'cn1' }, { currstate: 'sysclone rhels9.4-x86_64', currchain: 'boot' })
      await tables.setAttribs('noderes', { node: 'cn1' }, { netboot: 'xnba' })
      await tables.setAttribs('site', { key: 'tftpdir' }, { value: tftpdir })
    },
  })

  it('closes connections from hosts that are not nodes without a word', async () => {
    expect(await monitorExchange(suite.xcatd.iport, 'next')).to.equal('')
    expect((await suite.tables.getAttribs('chain', { node: 'cn1' }))?.currstate).to.equal('sysclone rhels9.4-x86_64')
  })

  it('moves a node that sends "next" along its chain', async () => {
    await suite.tables.setAttribs('hosts', { node: 'cn1' }, { ip: '127.0.0.1' })
    await new Promise((r) => setTimeout(r, 5100))
    expect(await monitorExchange(suite.xcatd.iport, 'next')).to.equal('ready\ndone\n')
    const chain = await suite.tables.getAttribs('chain', { node: 'cn1' })
    expect(chain?.currstate).to.equal('boot')
    expect(chain?.currchain).to.equal('boot')
    expect(readFileSync(join(tftpdir, 'xcat', 'xnba', 'nodes', 'cn1'), 'utf8')).to.equal('#!gpxe\n#boot\nexit\n')
  })

  it('records the statuses a node reports with installstatus', async () => {
    expect(await monitorExchange(suite.xcatd.iport, 'installstatus installing')).to.equal('ready\ndone\n')
    const row = await suite.tables.getAttribs('nodelist', { node: 'cn1' })
    expect(row?.status).to.equal('installing')
    expect(row?.statustime).to.match(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/)
  })

  it('closes a node that says nothing after two seconds', async () => {
    const started = Date.now()
    expect(await monitorExchange(suite.xcatd.iport, undefined)).to.equal('ready\n')
    expect(Date.now() - started).to.be.within(1500, 5000)
  })
})
