import { execFile, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { decodeRequest, encodeResponses } from '../../lib/protocol/codec.js'
import { DocumentFramer } from '../../lib/protocol/framer.js'
import type { XcatRequest, XcatResponse } from '../../lib/protocol/types.js'
import { useTestDaemon } from '../helpers/daemon.js'

const execFileAsync = promisify(execFile)
const PERL_CLIENT = join(import.meta.dirname, '..', 'fixtures', 'perl', 'xcat-client.pl')
const XML_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'xml')

interface PerlResult {
  request: string
  responses: XcatResponse[]
  raw: string
}

/** Runs the XML::Simple client with `request`; `home` holds its ~/.xcat credentials unless `anonymous`. */
async function perlClient(port: number, home: string, request: Record<string, unknown>, options: { anonymous?: boolean } = {}): Promise<PerlResult> {
  const args = [PERL_CLIENT, '--port', String(port), '--cred', join(home, '.xcat', 'client-cred.pem'), '--ca', join(home, '.xcat', 'ca.pem'), ...(options.anonymous ? ['--anonymous'] : []), JSON.stringify(request)]
  const { stdout } = await execFileAsync('perl', args, { timeout: 40_000 })
  return JSON.parse(stdout) as PerlResult
}

/** Runs `command args` with `input` on its stdin; resolves to its exit code and stdout once it exits. */
function runWithInput(command: string, args: readonly string[], input: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'ignore'] })
    let stdout = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => void (stdout += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout }))
    child.stdin.end(input)
  })
}

/** genesis getdestiny's value extraction: the first line matching `<elem>value</elem>`. */
async function sedExtract(response: string, elem: string): Promise<string> {
  const { code, stdout } = await runWithInput('sed', ['-n', `s:.*<${elem}>\\([^<]*\\)</${elem}>.*:\\1:p`], response)
  expect(code).to.equal(0)
  return stdout.split('\n')[0] ?? ''
}

/**
 * What getpostscript.awk does through `openssl s_client -quiet` (no client certificate): writes the request one line
 * at a time, then reads lines until one containing `<serverdone>` is followed by one containing `</xcatresponse>`.
 */
function awkStyleExchange(port: number, lines: readonly string[], timeoutMs = 20_000): Promise<{ lines: string[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], { stdio: ['pipe', 'pipe', 'ignore'] })
    const got: string[] = []
    let partial = ''
    let quit = false
    let finished = false
    const finish = (ended: boolean) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      child.kill()
      resolve({ lines: got, ended })
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', () => finish(false))
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      partial += d
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) {
        if (finished) return
        got.push(line)
        if (line.includes('<serverdone>')) quit = true
        if (line.includes('</xcatresponse>') && quit) finish(true)
      }
    })
    void (async () => {
      for (const line of lines) {
        child.stdin.write(`${line}\n`)
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
  })
}

/**
 * genesis getdestiny: the request file fed at once to `openssl s_client -quiet` (which ignores the end of its input);
 * all output once the server has closed the connection. Like the script, the exit status is not looked at.
 */
async function fileStyleExchange(port: number, request: string): Promise<string> {
  return (await runWithInput('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], request)).stdout
}

/** A TLS server with the test CA's server credentials that answers the first request with `chunks`, one write each. */
interface ReplayServer {
  readonly port: number
  readonly requests: string[]
  close(): Promise<void>
}

async function startReplayServer(confdir: string, chunks: () => readonly string[], options: { end?: boolean } = {}): Promise<ReplayServer> {
  const cred = readFileSync(join(confdir, 'cert', 'server-cred.pem'))
  const requests: string[] = []
  const server = tls.createServer({ key: cred, cert: cred, ca: readFileSync(join(confdir, 'cert', 'ca.pem')), requestCert: true, rejectUnauthorized: false }, (socket) => {
    socket.setEncoding('utf8')
    const framer = new DocumentFramer('xcatrequest')
    let answered = false
    socket.on('error', () => undefined)
    socket.on('data', (d: string) => {
      for (const doc of framer.push(d)) {
        requests.push(doc)
        if (answered) continue
        answered = true
        void (async () => {
          for (const chunk of chunks()) {
            if (socket.destroyed) return
            socket.write(chunk)
            await new Promise((r) => setImmediate(r))
          }
          if (options.end) socket.end()
        })()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
      }),
  }
}

function chunked(text: string, sizes: readonly number[]): string[] {
  const out: string[] = []
  let at = 0
  for (let i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length] ?? 1
    out.push(text.slice(at, at + size))
    at += size
  }
  return out
}

function fixture(name: string): string {
  return readFileSync(join(XML_FIXTURES, name), 'utf8')
}

describe('compatibility with xCAT clients and node scripts', function () {
  this.timeout(60_000)
  const tftpdir = mkdtempSync(join(tmpdir(), 'xcat-compat-tftp-'))
  after(() => rmSync(tftpdir, { recursive: true, force: true }))
  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setMany('nodelist', ['cn1', 'cn2', 'cn3'].map((node) => ({ keys: { node }, values: { groups: 'compute,all' } })))
      await tables.setMany('nodetype', [
        { keys: { node: 'cn1' }, values: { os: 'rhels8.6', arch: 'x86_64' } },
        { keys: { node: 'cn2' }, values: { os: 'sles15.4', arch: 'x86_64' } },
      ])
      await tables.setAttribs('hosts', { node: 'cn1' }, { ip: '127.0.0.1' })
      mkdirSync(join(tftpdir, 'xcat'), { recursive: true })
      for (const file of ['genesis.kernel.x86_64', 'genesis.fs.x86_64.gz']) writeFileSync(join(tftpdir, 'xcat', file), file)
      await tables.setAttribs('site', { key: 'tftpdir' }, { value: tftpdir })
    },
    daemon: { idleTimeoutMs: 1500 },
  })

  describe("xCAT's XML::Simple client against our daemon", () => {
    it('sends its request in the byte layout of the recorded nodeset fixture', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nodeset'], cwd: ['/root'], clienttype: ['cli'], noderange: ['compute01-compute03'], arg: ['osimage=img1'], environment: { XCAT_FOO: 'bar' } })
      expect(res.request).to.equal(fixture('nodeset-request.xml'))
    })

    it('reads tabdump site as data responses from mn and a bare serverdone', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['tabdump'], arg: ['site'], clienttype: ['cli'], cwd: ['/root'] })
      const last = res.responses.at(-1)
      expect(last).to.deep.equal({ serverdone: [null] })
      const body = res.responses.slice(0, -1)
      expect(body).to.have.length.greaterThan(0)
      for (const r of body) expect(r.xcatdsource).to.deep.equal(['mn'])
      const lines = body.flatMap((r) => r.data ?? [])
      expect(lines[0]).to.equal('#key,value,comments,disable')
      expect(lines).to.include('"xcatdport","3001",,')
      expect(lines).to.include('"master","127.0.0.1",,')
      for (const line of lines) expect(line).to.be.a('string')
    })

    it('receives bytes that re-encode exactly from what XML::Simple parsed', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['tabdump'], arg: ['site'] })
      expect(encodeResponses(res.responses)).to.equal(res.raw)
      expect(res.raw).to.match(/\n {2}<serverdone><\/serverdone>\n<\/xcatresponse>\n$/)
    })

    it('reads nodels with a noderange as node entries', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nodels'], noderange: ['cn1-cn3'], arg: ['nodetype.os'], clienttype: ['cli'], cwd: ['/root'] })
      expect(res.responses.at(-1)).to.deep.equal({ serverdone: [null] })
      const nodes = res.responses.flatMap((r) => r.node ?? [])
      expect(nodes.map((n) => n.name)).to.deep.equal([['cn1'], ['cn2'], ['cn3']])
      const values = nodes.map((n) => {
        const data = n.data?.[0]
        return typeof data === 'object' ? data.contents?.[0] ?? null : data
      })
      expect(values).to.deep.equal(['rhels8.6', 'sles15.4', null])
      for (const r of res.responses.slice(0, -1)) expect(r.xcatdsource).to.deep.equal(['mn'])
      expect(encodeResponses(res.responses)).to.equal(res.raw)
    })

    it('reads nodels without attributes as one data item per node', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nodels'], noderange: ['compute'] })
      expect(res.responses).to.deep.equal([{ data: ['cn1', 'cn2', 'cn3'], xcatdsource: ['mn'] }, { serverdone: [null] }])
    })

    it('reads a bad noderange as an error with errorcode 1 in the serverdone response', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nodels'], noderange: ['cn1,nosuch'] })
      expect(res.responses).to.have.length(1)
      expect(res.responses[0]).to.deep.include({ errorcode: ['1'], serverdone: [null] })
      expect(res.responses[0]?.error?.[0]).to.match(/nosuch/)
    })

    it('reads an unknown command as "Unsupported request" without an errorcode', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nosuchcommand'], clienttype: ['cli'] })
      expect(res.responses).to.deep.equal([{ error: ['Unsupported request'], serverdone: [null] }])
    })

    it('reads a policy denial as error, errorcode 1 and serverdone in one response', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.aliceHome, { command: ['tabdump'], arg: ['site'] })
      expect(res.responses).to.deep.equal([{ error: ['Permission denied for request'], errorcode: ['1'], serverdone: [null] }])
      expect(res.raw).to.equal(fixture('permission-denied.xml'))
    })

    it('is denied without a client certificate for what the policy keeps to root', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['tabdump'], arg: ['site'] }, { anonymous: true })
      expect(res.responses).to.deep.equal([{ error: ['Permission denied for request'], errorcode: ['1'], serverdone: [null] }])
    })

    it('echoes the transid in serverdone', async () => {
      const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['nosuchcommand'], transid: ['17'] })
      expect(res.responses).to.deep.equal([{ error: ['Unsupported request'], serverdone: [null], transid: ['17'] }])
    })

    it('gets characters outside TAB..DEL back as ?', async () => {
      await suite.tables.setAttribs('site', { key: 'compattest' }, { value: 'café ☕' })
      try {
        const res = await perlClient(suite.xcatd.port, suite.creds.rootHome, { command: ['tabdump'], arg: ['-w', 'key==compattest', 'site'] })
        expect(res.responses.flatMap((r) => r.data ?? [])).to.deep.equal(['#key,value,comments,disable', '"compattest","caf? ?",,'])
      } finally {
        await suite.tables.delEntries('site', [{ key: 'compattest' }])
      }
    })
  })

  describe('node-side shell consumers through openssl s_client', () => {
    const getdestinyLines = ['<xcatrequest>', '<command>nextdestiny</command>', '<callback_port>300</callback_port>', '</xcatrequest>']

    beforeEach(async () => {
      await suite.tables.setAttribs('chain', { node: 'cn1' }, { currstate: 'sysclone rhels8.6-x86_64', currchain: 'shell,boot' })
    })

    it('answers an anonymous line-by-line nextdestiny so that getpostscript.awk sees the end', async () => {
      const { lines, ended } = await awkStyleExchange(suite.xcatd.port, getdestinyLines)
      expect(ended).to.equal(true)
      const serverdone = lines.findIndex((l) => l.includes('<serverdone>'))
      expect(serverdone).to.be.greaterThan(0)
      expect(lines[serverdone + 1]).to.include('</xcatresponse>')
      expect(lines.filter((l) => !l.includes('<xcatdsource>'))).to.deep.equal([
        '<xcatresponse>',
        '  <node>',
        '    <data>shell</data>',
        '    <destiny>shell</destiny>',
        '    <imgserver>127.0.0.1</imgserver>',
        '    <name>cn1</name>',
        '  </node>',
        '</xcatresponse>',
        '<xcatresponse>',
        '  <serverdone></serverdone>',
        '</xcatresponse>',
      ])
      expect(lines).to.include('  <xcatdsource>mn</xcatdsource>')
      expect((await suite.tables.getNodeAttribs('chain', 'cn1', ['currstate', 'currchain']))).to.deep.include({ currstate: 'shell', currchain: 'boot' })
    })

    it('answers the getdestiny request file so that its sed extraction finds the values', async () => {
      const response = await fileStyleExchange(suite.xcatd.port, fixture('getdestiny-request.xml').replace('getdestiny', 'nextdestiny'))
      expect(await sedExtract(response, 'name')).to.equal('cn1')
      expect(await sedExtract(response, 'data')).to.equal('shell')
      expect(await sedExtract(response, 'xcatdsource')).to.equal('mn')
      expect(response).not.to.include('<error>')
      expect(response.split('\n').filter((l) => l.includes('<serverdone>'))).to.deep.equal(['  <serverdone></serverdone>'])
    })

    it('puts every leaf element of the answer on a line of its own', async () => {
      const response = await fileStyleExchange(suite.xcatd.port, `${getdestinyLines.join('\n')}\n`)
      for (const line of response.split('\n').filter((l) => l.trim())) {
        expect(line).to.match(/^( {2})*(<\/?[A-Za-z_]+>|<([A-Za-z_]+)>[^<]*<\/\3>)$/)
      }
    })

    it('answers getpostscript.awk-style three-space indented requests', async () => {
      const { lines, ended } = await awkStyleExchange(suite.xcatd.port, ['<xcatrequest>', '   <command>nextdestiny</command>', '</xcatrequest>'])
      expect(ended).to.equal(true)
      expect(lines).to.include('    <data>shell</data>')
    })

    it('lets sed find the error of a request the policy denies an anonymous node', async () => {
      const response = await fileStyleExchange(suite.xcatd.port, '<xcatrequest>\n<command>tabdump</command>\n<arg>site</arg>\n</xcatrequest>\n')
      expect(await sedExtract(response, 'error')).to.equal('Permission denied for request')
      expect(await sedExtract(response, 'errorcode')).to.equal('1')
    })
  })

  describe('our client against recorded xcatd output', () => {
    const NODELS = {
      stdout: 'compute01: nodetype.os: rhels8.6\ncompute02: nodetype.os: \ncompute03: nodetype.os: sles15.4\n3 nodes listed\n',
      stderr: 'Error: [mn01]: Could not find an entry for node compute04 in the nodetype table\nWarning: [mn01]: nodetype.os is not set for every node\n',
      code: 2,
    }
    const splits: [string, (t: string) => string[]][] = [
      ['in one write', (t) => [t]],
      ['one byte per write', (t) => [...t]],
      ['in chunks of 7 bytes', (t) => chunked(t, [7])],
      ['in chunks of 1, 2, 13 and 4096 bytes', (t) => chunked(t, [1, 2, 13, 4096])],
      ['split inside the closing tags', (t) => t.split('</xcatresponse>').flatMap((p, i, a) => (i < a.length - 1 ? [`${p}</xcatres`, 'ponse>'] : [p]))],
      ['split right after each closing tag', (t) => t.split(/(?<=<\/xcatresponse>)/)],
    ]

    for (const [how, split] of splits) {
      it(`prints nodels-responses.xml replayed ${how} exactly as xCAT's client does`, async () => {
        const transcript = fixture('nodels-responses.xml')
        const replay = await startReplayServer(suite.creds.confdir, () => split(transcript))
        try {
          const res = await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['compute01-compute03', 'nodetype.os'], { env: { XCATHOST: `127.0.0.1:${replay.port}` } })
          expect(res).to.deep.equal(NODELS)
          expect(replay.requests).to.have.length(1)
          const request: XcatRequest = await decodeRequest(replay.requests[0]!)
          expect(request).to.deep.equal({ arg: ['nodetype.os'], clienttype: ['cli'], command: ['nodels'], cwd: [suite.creds.rootHome], noderange: ['compute01-compute03'] })
        } finally {
          await replay.close()
        }
      })
    }

    it('prints the recorded permission denial on stderr and exits 1', async () => {
      const replay = await startReplayServer(suite.creds.confdir, () => [fixture('permission-denied.xml')])
      try {
        expect(await suite.xcatd.run(suite.creds.rootHome, 'tabdump', ['site'], { env: { XCATHOST: `127.0.0.1:${replay.port}` } })).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: Permission denied for request\n' })
      } finally {
        await replay.close()
      }
    })

    it('prints the recorded escaped and multi-line values unescaped', async () => {
      const replay = await startReplayServer(suite.creds.confdir, () => chunked(fixture('escaped-responses.xml'), [5, 3]))
      try {
        expect(await suite.xcatd.run(suite.creds.rootHome, 'tabdump', [], { env: { XCATHOST: `127.0.0.1:${replay.port}` } })).to.deep.equal({
          code: 0,
          stdout: `n1: d: c & <x>\na & b < c > d "quoted" 'apostrophe'\ncol1\tcol2\nline one\nline two &amp;\n  indented line three\n`,
          stderr: '',
        })
      } finally {
        await replay.close()
      }
    })

    it('reports a transcript cut before serverdone as a premature end and exits 1', async () => {
      const transcript = fixture('nodels-responses.xml')
      const cut = transcript.slice(0, transcript.lastIndexOf('<xcatresponse>'))
      const replay = await startReplayServer(suite.creds.confdir, () => [cut], { end: true })
      try {
        const res = await suite.xcatd.run(suite.creds.rootHome, 'nodels', ['compute01-compute03', 'nodetype.os'], { env: { XCATHOST: `127.0.0.1:${replay.port}` } })
        expect(res.code).to.equal(1)
        expect(res.stdout).to.equal(NODELS.stdout)
        expect(res.stderr).to.equal(`${NODELS.stderr}ERROR/WARNING: communication with the xCAT server seems to have been ended prematurely\n`)
      } finally {
        await replay.close()
      }
    })
  })
})
