import net from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { submitRequest } from '../../lib/client/tls-client.js'
import type { XcatResponse } from '../../lib/protocol/types.js'
import { DEFAULT_PLUGIN_DIR } from '../../lib/server/plugin-registry.js'
import { startTestDaemon, useTestDaemon, type TestCredentials } from '../helpers/daemon.js'
import { seen } from '../fixtures/plugins/workers.js'

const TEST_PLUGINS = join(import.meta.dirname, '..', 'fixtures', 'plugins')

/** Opens a TLS connection as root, sends raw text and collects everything until the server closes or `until` matches. */
async function rawExchange(port: number, creds: TestCredentials, text: string, until?: RegExp, timeoutMs = 10_000): Promise<string> {
  const cred = readFileSync(join(creds.rootHome, '.xcat', 'client-cred.pem'))
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, key: cred, cert: cred, ca: readFileSync(join(creds.rootHome, '.xcat', 'ca.pem')), checkServerIdentity: () => undefined })
    let got = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer; got ${JSON.stringify(got)}`))
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('secureConnect', () => socket.write(text))
    socket.on('data', (d: string) => {
      got += d
      if (until?.test(got)) {
        clearTimeout(timer)
        socket.destroy()
        resolve(got)
      }
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
    socket.on('error', () => undefined)
  })
}

describe('xcatd over TLS', function () {
  this.timeout(60_000)
  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setMany('nodelist', ['cn1', 'cn2', 'cn3', 'cn4'].map((node) => ({ keys: { node }, values: { groups: 'compute,all' } })))
      await tables.setMany('noderes', [
        { keys: { node: 'cn1' }, values: { netboot: 'xnbatest' } },
        { keys: { node: 'cn2' }, values: { netboot: 'pxetest' } },
        { keys: { node: 'cn3' }, values: { netboot: 'grubtest-http' } },
      ])
    },
    daemon: { pluginDirs: [DEFAULT_PLUGIN_DIR, TEST_PLUGINS], idleTimeoutMs: 1500, maxRequestBytes: 4 * 1024 * 1024 },
  })

  it('runs a command for a certificate user exactly as it runs in-process', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'tabdump', ['-w', 'key==xcatdport', 'site'])
    expect(res).to.deep.equal({ code: 0, stdout: '#key,value,comments,disable\n"xcatdport","3001",,\n', stderr: '' })
  })

  it('gives plugins the user from the certificate CN and the peer host', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'xcatclientnnr', ['whoami'])
    expect(res.stdout).to.equal('user=root host=localhost username=root\n')
  })

  it('denies what the policy table does not allow, with errorcode 1', async () => {
    const anonymous = await suite.xcatd.run(suite.creds.anonymousHome, 'tabdump', ['site'])
    expect(anonymous.code).to.equal(1)
    expect(anonymous.stderr).to.equal('Error: Permission denied for request\n')
    expect((await suite.xcatd.run(suite.creds.aliceHome, 'tabdump', ['site'])).stderr).to.equal('Error: Permission denied for request\n')
  })

  it('applies name, commands, parameters and noderange rules by priority', async () => {
    await suite.tables.setMany('policy', [
      { keys: { priority: '5' }, values: { name: 'alice', commands: 'nodels', noderange: 'cn1,cn2', rule: 'allow' } },
      { keys: { priority: '5.1' }, values: { name: 'alice', commands: 'tabdump', parameters: '^site$', rule: 'allow' } },
      { keys: { priority: '5.2' }, values: { name: '*', commands: 'whoami', rule: 'deny' } },
    ])
    try {
      expect((await suite.xcatd.run(suite.creds.aliceHome, 'nodels', ['cn1,cn2'])).stdout).to.equal('cn1\ncn2\n')
      expect((await suite.xcatd.run(suite.creds.aliceHome, 'nodels', ['cn1,cn3'])).stderr).to.equal('Error: Permission denied for request\n')
      expect((await suite.xcatd.run(suite.creds.aliceHome, 'tabdump', ['site'])).code).to.equal(0)
      expect((await suite.xcatd.run(suite.creds.aliceHome, 'tabdump', ['nodelist'])).stderr).to.equal('Error: Permission denied for request\n')
      expect((await suite.xcatd.run(suite.creds.aliceHome, 'xcatclientnnr', ['whoami'])).stderr).to.equal('Error: Permission denied for request\n')
      expect((await suite.xcatd.run(suite.creds.rootHome, 'xcatclientnnr', ['whoami'])).code).to.equal(0)
    } finally {
      await suite.tables.delEntries('policy', [{ priority: '5' }, { priority: '5.1' }, { priority: '5.2' }])
    }
  })

  it('answers authcheck and the built-in noderange command', async () => {
    const responses: XcatResponse[] = []
    const cred = readFileSync(join(suite.creds.rootHome, '.xcat', 'client-cred.pem'))
    const target = { host: '127.0.0.1', port: suite.xcatd.port, key: cred, cert: cred, ca: readFileSync(join(suite.creds.confdir, 'cert', 'ca.pem')) }
    await submitRequest(target, { command: ['authcheck'] }, (r) => responses.push(r))
    await submitRequest(target, { command: ['noderange'], noderange: ['cn[1-2],nosuch'] }, (r) => responses.push(r))
    expect(responses).to.deep.equal([
      { data: ['Authenticated'], serverdone: [null], username: ['root'] },
      { node: ['cn1', 'cn2'], serverdone: [null], warning: ['Invalid nodes in noderange:nosuch'] },
    ])
  })

  it('reports an unknown command as "Unsupported request" without an errorcode', async () => {
    expect(await suite.xcatd.run(suite.creds.rootHome, 'xcatclientnnr', ['nosuchcommand'])).to.deep.equal({ code: 0, stdout: '', stderr: 'Error: Unsupported request\n' })
  })

  it('dispatches with all four handler forms and names the tables for unclaimed nodes', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'xcatclient', ['tablecmd', 'cn1-cn4', 'a1'])
    expect(res.stdout.split('\n').sort()).to.deep.equal(['', 'grubtest tablecmd nodes=cn3', 'pxetest nodes=cn2', 'testglobal tablecmd nodes=cn4 args=a1', 'xnbatest nodes=cn1'])
    expect(res.stderr).to.equal('cn4: [mn]: Error: Unable to identify plugin for this command, check relevant tables: noderes.netboot=(grubtest[-]?.*);noderes.netboot\n')
    expect(res.code).to.equal(1)
    const before = await suite.xcatd.run(suite.creds.rootHome, 'xcatclient', ['sitecmd', 'cn1'])
    expect(before.stdout).to.equal('testglobal sitecmd nodes=cn1 args=\n')
    await suite.tables.setAttribs('site', { key: 'sitecmdplugin' }, { value: 'grubtest' })
    try {
      expect((await suite.xcatd.run(suite.creds.rootHome, 'xcatclient', ['sitecmd', 'cn1'])).stdout).to.equal('grubtest sitecmd nodes=cn1\n')
    } finally {
      await suite.tables.delEntries('site', [{ key: 'sitecmdplugin' }])
    }
  })

  it('skips broken plugins and logs why', () => {
    const log = suite.xcatd.log.join('')
    const lines = suite.xcatd.log.length ? log.split('\n') : []
    expect(lines.some((l) => l.includes('plugin skipped: it does not export an xCAT plugin') && l.includes('broken-shape.ts'))).to.equal(true)
    expect(lines.some((l) => l.includes('plugin skipped: it failed to load') && l.includes('broken-load.ts'))).to.equal(true)
  })

  it('runs the plugins of a request concurrently, or one by one in name order with sequential', async () => {
    const concurrent: XcatResponse[] = []
    const cred = readFileSync(join(suite.creds.rootHome, '.xcat', 'client-cred.pem'))
    const target = { host: '127.0.0.1', port: suite.xcatd.port, key: cred, cert: cred, ca: readFileSync(join(suite.creds.confdir, 'cert', 'ca.pem')) }
    await submitRequest(target, { command: ['seqcmd'] }, (r) => concurrent.push(r))
    expect(concurrent.flatMap((r) => r.data ?? [])).to.deep.equal(['workers done', 'testglobal done'])
    const sequential: XcatResponse[] = []
    await submitRequest(target, { command: ['seqcmd'], sequential: ['1'] }, (r) => sequential.push(r))
    expect(sequential.flatMap((r) => r.data ?? [])).to.deep.equal(['testglobal done', 'workers done'])
  })

  it('passes object references through in-process sub-requests', async () => {
    expect((await suite.xcatd.run(suite.creds.rootHome, 'xcatclient', ['outer', 'cn1'])).stdout).to.equal('shared object touched by: inner\n')
  })

  it('reports a crashing plugin with its name and nodes, and keeps serving', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'xcatclient', ['crash', 'cn1'])
    expect(res).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: [mn]: workers: deliberate failure [nodes: cn1]\n' })
    expect((await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['cn1'])).stdout).to.equal('cn1\n')
  })

  it('aborts the running plugin when the client sends abortcommand (Ctrl-C)', async () => {
    const abort = new AbortController()
    const before = seen.aborted
    const running = suite.xcatd.run(suite.creds.rootHome, 'xcatclientnnr', ['waitforabort'], { signal: abort.signal })
    await new Promise((r) => setTimeout(r, 500))
    abort.abort()
    const res = await running
    expect(res.stdout).to.equal('started\n')
    expect(seen.aborted).to.equal(before + 1)
  })

  it('streams many responses and ORs errorcodes into the exit code', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'xcatclientnnr', ['manylines', '5000'])
    expect(res.stdout.split('\n')).to.have.length(5001)
    expect(res.stdout.split('\n')[4999]).to.equal('line 4999')
  })

  it('answers a malformed request with an error and closes the connection', async () => {
    const out = await rawExchange(suite.xcatd.port, suite.creds, '<xcatrequest>\n<command>nodels</command>\n<oops></xcatrequest>\n')
    expect(out).to.match(/<error>Invalid request: .+<\/error>/)
    expect(out).to.match(/<serverdone><\/serverdone>/)
  })

  it('refuses input that is not a request and a request larger than the limit, and keeps serving', async () => {
    expect(await rawExchange(suite.xcatd.port, suite.creds, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).to.match(/Invalid request: no &lt;xcatrequest&gt; in the input/)
    const huge = `<xcatrequest>\n<command>nodels</command>\n<arg>${'x'.repeat(5 * 1024 * 1024)}</arg>\n</xcatrequest>\n`
    expect(await rawExchange(suite.xcatd.port, suite.creds, huge)).to.match(/Invalid request: document larger than/)
    expect((await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['cn2'])).stdout).to.equal('cn2\n')
  })

  it('refuses a 100 MB request with the default limits and keeps serving', async function () {
    this.timeout(120_000)
    const plain = await startTestDaemon(suite.tables, { confdir: suite.creds.confdir })
    try {
      const huge = `<xcatrequest>\n<command>nodels</command>\n<arg>${'x'.repeat(100 * 1024 * 1024)}</arg>\n</xcatrequest>\n`
      expect(await rawExchange(plain.port, suite.creds, huge, /<\/xcatresponse>/, 60_000)).to.match(/Invalid request: document larger than 16777216 bytes/)
      expect((await plain.run(suite.creds.rootHome, 'nodels', ['cn2'])).stdout).to.equal('cn2\n')
    } finally {
      await plain.stop()
    }
  })

  it('closes a connection that sends nothing, or never finishes its request, after the idle timeout', async () => {
    const started = Date.now()
    expect(await rawExchange(suite.xcatd.port, suite.creds, '')).to.equal('')
    expect(await rawExchange(suite.xcatd.port, suite.creds, '<xcatrequest>\n<command>nodels</command>\n')).to.equal('')
    expect(Date.now() - started).to.be.below(8000)
  })

  it('keeps serving while thousands of idle connections are open', async function () {
    this.timeout(120_000)
    const sockets = await Promise.all(
      Array.from({ length: 2000 }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: suite.xcatd.port }, () => resolve(s))
        s.on('error', () => resolve(s))
      })),
    )
    try {
      const res = await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['cn3'])
      expect(res.stdout).to.equal('cn3\n')
    } finally {
      for (const s of sockets) s.destroy()
    }
  })

  it('queues requests beyond site.xcatmaxconnections instead of refusing them', async () => {
    await suite.tables.setAttribs('site', { key: 'xcatmaxconnections' }, { value: '2' })
    const limited = await startTestDaemon(suite.tables, { confdir: suite.creds.confdir })
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => limited.run(suite.creds.rootHome, 'nodels', ['compute'])))
      for (const r of results) expect(r.stdout).to.equal('cn1\ncn2\ncn3\ncn4\n')
    } finally {
      await limited.stop()
      await suite.tables.delEntries('site', [{ key: 'xcatmaxconnections' }])
    }
  })

  it('replaces characters outside ASCII with ? in what it sends', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['nöde'])
    expect(res).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: Invalid nodes and/or groups in noderange: n?de\n' })
  })

  it('prints the xCAT message when the connection ends before serverdone', async () => {
    const key = readFileSync(join(suite.creds.confdir, 'cert', 'server-cred.pem'))
    const fake = tls.createServer({ key, cert: key }, (s) => {
      s.write('<xcatresponse>\n  <data>partial</data>\n</xcatresponse>\n')
      setTimeout(() => s.destroy(), 100)
    })
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()))
    try {
      const port = (fake.address() as net.AddressInfo).port
      const res = await suite.xcatd.run(suite.creds.anonymousHome, 'nodels', ['cn1'], { env: { XCATHOST: `127.0.0.1:${port}` } })
      expect(res.code).to.equal(1)
      expect(res.stdout).to.match(/partial\n$/)
      expect(res.stderr).to.equal('ERROR/WARNING: communication with the xCAT server seems to have been ended prematurely\n')
    } finally {
      fake.close()
    }
  })

  it('tells the user when no xcatd listens', async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['cn1'], { env: { XCATHOST: '127.0.0.1:1' } })
    expect(res.code).to.equal(1)
    expect(res.stdout).to.equal('Unable to open socket connection to xcatd daemon on 127.0.0.1:1.\nVerify that the xcatd daemon is running and that your SSL setup is correct.\n')
    expect(res.stderr).to.match(/^Connection failure: .*ECONNREFUSED/)
  })
})
