import { execFile, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'

const ROOT = join(import.meta.dirname, '..', '..')
const CLI = join(ROOT, 'dist', 'lib', 'client', 'cli.js')
const STANZA = 'node03:\n    objtype=node\n    groups=all\n'

interface BinResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

describe('bin/ executables', function () {
  this.timeout(60_000)
  let dir: string
  let env: NodeJS.ProcessEnv

  const bin = (name: string, ...argv: string[]) =>
    new Promise<BinResult>((resolve) => {
      execFile(join(ROOT, 'bin', name), argv, { env, cwd: dir }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr })
      })
    })

  const withStdin = (name: string, argv: readonly string[], stdin: number) =>
    new Promise<BinResult>((resolve, reject) => {
      const child = spawn(join(ROOT, 'bin', name), argv, { env, cwd: dir, stdio: [stdin, 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    })

  before(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`)
    dir = mkdtempSync(join(tmpdir(), 'xcat-bin-'))
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XCATBYPASS: '1', XCATCFG: `SQLite:${dir}` }
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('xcatconfig -d initializes the database silently', async () => {
    expect(await bin('xcatconfig', '-d')).to.deep.equal({ code: 0, stdout: '', stderr: '' })
  })

  it('nodeadd adds nodes from a noderange', async () => {
    expect(await bin('nodeadd', 'node[01-02]', 'groups=all')).to.deep.equal({ code: 0, stdout: '', stderr: '' })
  })

  it('nodels lists the nodes of a group', async () => {
    expect(await bin('nodels', 'all')).to.deep.equal({ code: 0, stdout: 'node01\nnode02\n', stderr: '' })
  })

  it('tabdump prints the site table', async () => {
    const res = await bin('tabdump', 'site')
    expect(res.code).to.equal(0)
    expect(res.stderr).to.equal('')
    expect(res.stdout.split('\n')[0]).to.equal('#key,value,comments,disable')
    expect(res.stdout).to.include('\n"xcatdport","3001",,\n')
    expect(res.stdout.endsWith(',\n')).to.equal(true)
  })

  it('lsdef shows a node', async () => {
    expect(await bin('lsdef', 'node01')).to.deep.equal({
      code: 0,
      stdout: 'Object name: node01\n    groups=all\n    postbootscripts=otherpkgs\n    postscripts=syslog,remoteshell,syncfiles\n',
      stderr: '',
    })
  })

  it('nodels with an unknown noderange exits 1 with xCAT\'s error', async () => {
    expect(await bin('nodels', 'nosuch')).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: Invalid nodes and/or groups in noderange: nosuch\n' })
  })

  it('xcatclient runs a command given as its first argument, with a noderange', async () => {
    expect(await bin('xcatclient', 'nodels', 'all')).to.deep.equal({ code: 0, stdout: 'node01\nnode02\n', stderr: '' })
  })

  it('xcatclientnnr runs a command given as its first argument, without a noderange', async () => {
    expect(await bin('xcatclientnnr', 'tabdump', 'nodelist')).to.deep.equal({
      code: 0,
      stdout: '#node,groups,status,statustime,appstatus,appstatustime,primarysn,hidden,updatestatus,updatestatustime,zonename,comments,disable\n"node01","all",,,,,,,,,,,\n"node02","all",,,,,,,,,,,\n',
      stderr: '',
    })
  })

  it('mkdef -z reads a stanza piped into its standard input', async () => {
    const fifo = join(dir, 'stanza.fifo')
    await new Promise<void>((resolve, reject) => execFile('mkfifo', [fifo], (err) => (err ? reject(err) : resolve())))
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
    const writer = openSync(fifo, constants.O_WRONLY)
    writeSync(writer, STANZA)
    closeSync(writer)
    let res: BinResult
    try {
      res = await withStdin('mkdef', ['-z'], reader)
    } finally {
      closeSync(reader)
    }
    expect(res).to.deep.equal({ code: 0, stdout: '1 object definitions have been created or modified.\n', stderr: '' })
    expect(await bin('nodels', 'all')).to.deep.equal({ code: 0, stdout: 'node01\nnode02\nnode03\n', stderr: '' })
  })

  it('mkdef -z reads a stanza redirected from a file', async () => {
    const file = join(dir, 'stanza.txt')
    writeFileSync(file, 'node04:\n    objtype=node\n    groups=all,rack2\n')
    const fd = openSync(file, 'r')
    let res: BinResult
    try {
      res = await withStdin('mkdef', ['-z'], fd)
    } finally {
      closeSync(fd)
    }
    expect(res).to.deep.equal({ code: 0, stdout: '1 object definitions have been created or modified.\n', stderr: '' })
    expect(await bin('nodels', 'rack2')).to.deep.equal({ code: 0, stdout: 'node04\n', stderr: '' })
  })
})
