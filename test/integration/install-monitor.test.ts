import net from 'node:net'
import { expect } from 'chai'
import { useTestDaemon } from '../helpers/daemon.js'

/** Talks to the install monitor as a node's updateflag.awk does: wait for ready, send one line, read until close. */
async function monitorExchange(port: number, line: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    let got = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      got += d
      if (got === 'ready\n' && line !== undefined) socket.write(`${line}\n`)
    })
    socket.on('close', () => resolve(got))
    socket.on('error', reject)
  })
}

describe('install monitor (site.xcatiport)', function () {
  this.timeout(30_000)
  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setAttribs('nodelist', { node: 'cn1' }, { groups: 'compute,all' })
      await tables.setAttribs('chain', { node: 'cn1' }, { currstate: 'sysclone rhels9.4-x86_64', currchain: 'boot' })
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
