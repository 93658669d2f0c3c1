import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { freePort } from '../helpers/ports.js'
import { runCommand } from '../../lib/exec/command.js'
import type { SyscloneDirs } from '../../lib/sysclone/paths.js'
import { ensureImageRsyncDaemon, rsyncDaemonFiles, runningImageRsyncDaemon, stopImageRsyncDaemon, type ImageRsyncDaemonOptions } from '../../lib/sysclone/rsync-daemon.js'

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port, host, exclusive: true }, () => resolve(server))
  })
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
  } catch {
    return false
  }
}

function rsync(...args: string[]) {
  return runCommand(['rsync', '--contimeout=10', '--timeout=30', ...args])
}

describe('image rsync daemon', function () {
  this.timeout(60_000)
  let root: string
  let dirs: SyscloneDirs
  let stateDir: string
  let port: number
  let base: ImageRsyncDaemonOptions
  const servers: Server[] = []
  const stateDirs: string[] = []

  before(async function () {
    if (process.getuid?.() !== 0 || (await runCommand(['rsync', '--version']).catch(() => ({ code: 127 }))).code !== 0) this.skip()
    root = mkdtempSync(join(tmpdir(), 'si-rsyncd-'))
    const home = join(root, 'install', 'sysclone')
    dirs = { home, images: join(home, 'images'), scripts: join(home, 'scripts'), overrides: join(home, 'overrides'), systemimager: join(root, 'etc', 'systemimager') }
    const img1 = join(dirs.images, 'img1')
    mkdirSync(join(img1, 'etc'), { recursive: true })
    mkdirSync(join(img1, 'home', 'alice'), { recursive: true })
    writeFileSync(join(img1, 'etc', 'hostname'), 'golden\n')
    writeFileSync(join(img1, 'home', 'alice', 'notes'), 'owned by 12345\n')
    chownSync(join(img1, 'home', 'alice', 'notes'), 12345, 12346)
    chownSync(join(img1, 'home', 'alice'), 12345, 12346)
    mkdirSync(join(dirs.images, 'img 2'), { recursive: true })
    writeFileSync(join(dirs.images, 'img 2', 'marker'), 'two\n')
    mkdirSync(join(dirs.scripts, 'post-install'), { recursive: true })
    writeFileSync(join(dirs.scripts, 'img1.master'), '#!/bin/sh\n')
    mkdirSync(join(dirs.overrides, 'img1'), { recursive: true })
    stateDir = join(root, 'state')
    stateDirs.push(stateDir)
    port = await freePort()
    base = { dirs, images: [{ name: 'img1', path: img1 }], allow: ['10.0.0.0/255.255.0.0'], port, address: '127.0.0.1', stateDir }
  })

  after(async () => {
    for (const dir of stateDirs) await stopImageRsyncDaemon(dir)
    for (const server of servers) server.close()
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('starts the daemon, which lists the scripts, overrides and image modules', async () => {
    const state = await ensureImageRsyncDaemon(base)
    expect(state).to.include({ configPath: join(dirs.systemimager, 'xcat-rsyncd.conf'), started: true, restarted: false, changed: true })
    expect(alive(state.pid)).to.equal(true)
    expect(readFileSync(rsyncDaemonFiles(stateDir).pidFile, 'utf8').trim()).to.equal(String(state.pid))
    expect(existsSync(join(dirs.systemimager, 'rsyncd.conf'))).to.equal(false)
    const list = await rsync(`rsync://127.0.0.1:${port}/`)
    expect(list.code).to.equal(0)
    expect(list.stdout.split('\n').map((l) => l.trim()).filter(Boolean)).to.deep.equal(['scripts', 'overrides', 'img1'])
  })

  it('serves an image with its numeric ownership', async () => {
    const out = join(root, 'copy1')
    const copy = await rsync('-a', '--numeric-ids', `rsync://127.0.0.1:${port}/img1/`, `${out}/`)
    expect(copy.code, copy.stderr).to.equal(0)
    expect(readFileSync(join(out, 'etc', 'hostname'), 'utf8')).to.equal('golden\n')
    expect(statSync(join(out, 'home', 'alice', 'notes'))).to.include({ uid: 12345, gid: 12346 })
    expect(statSync(join(out, 'home', 'alice'))).to.include({ uid: 12345, gid: 12346 })
    const scripts = await rsync('-a', `rsync://127.0.0.1:${port}/scripts/`, `${join(root, 'scripts-copy')}/`)
    expect(scripts.code, scripts.stderr).to.equal(0)
    expect(existsSync(join(root, 'scripts-copy', 'img1.master'))).to.equal(true)
  })

  it('refuses writes', async () => {
    writeFileSync(join(root, 'intruder'), 'x')
    const push = await rsync(join(root, 'intruder'), `rsync://127.0.0.1:${port}/img1/`)
    expect(push.code).to.not.equal(0)
    expect(push.stderr).to.match(/read only/i)
    expect(existsSync(join(dirs.images, 'img1', 'intruder'))).to.equal(false)
  })

  it('leaves a running daemon alone when nothing changed', async () => {
    const before = await runningImageRsyncDaemon(stateDir)
    const started = Date.now()
    const state = await ensureImageRsyncDaemon(base)
    expect(Date.now() - started).to.be.below(1000)
    expect(state).to.include({ pid: before, started: false, restarted: false, changed: false })
  })

  it('serves a new image from the next connection on, without a restart', async () => {
    const before = await runningImageRsyncDaemon(stateDir)
    base = { ...base, images: [...base.images, { name: 'img2', path: join(dirs.images, 'img 2') }] }
    const state = await ensureImageRsyncDaemon(base)
    expect(state).to.include({ pid: before, started: false, restarted: false, changed: true })
    const list = await rsync(`rsync://127.0.0.1:${port}/`)
    expect(list.stdout).to.match(/^img2\s/m)
    const copy = await rsync('-a', `rsync://127.0.0.1:${port}/img2/`, `${join(root, 'copy2')}/`)
    expect(copy.code, copy.stderr).to.equal(0)
    expect(readFileSync(join(root, 'copy2', 'marker'), 'utf8')).to.equal('two\n')
  })

  it('logs a completion ping for a file that does not exist, changes nothing and keeps serving', async () => {
    const before = readdirSync(dirs.scripts).sort()
    const ping = await rsync(`rsync://127.0.0.1:${port}/scripts/imaging_complete_10.0.0.9`)
    expect(ping.code).to.equal(23)
    expect(ping.stderr).to.match(/No such file or directory/)
    expect(readdirSync(dirs.scripts).sort()).to.deep.equal(before)
    expect(readFileSync(rsyncDaemonFiles(stateDir).logFile, 'utf8')).to.match(/rsync on scripts\/imaging_complete_10\.0\.0\.9 from .*\(127\.0\.0\.1\)/)
    expect((await rsync(`rsync://127.0.0.1:${port}/`)).code).to.equal(0)
  })

  it('refuses hosts outside hosts allow', async () => {
    const before = await runningImageRsyncDaemon(stateDir)
    expect(await ensureImageRsyncDaemon({ ...base, allow: ['10.9.9.9'], allowLoopback: false })).to.include({ pid: before, restarted: false, changed: true })
    const copy = await rsync('-a', `rsync://127.0.0.1:${port}/img1/`, `${join(root, 'copy3')}/`)
    expect(copy.code).to.not.equal(0)
    expect(copy.stderr).to.match(/access denied/)
    expect(existsSync(join(root, 'copy3', 'etc'))).to.equal(false)
    await ensureImageRsyncDaemon(base)
    expect((await rsync(`rsync://127.0.0.1:${port}/img1/etc/hostname`)).code).to.equal(0)
  })

  it('keeps the running daemon when the new port is taken by another program', async () => {
    const before = (await runningImageRsyncDaemon(stateDir))!
    const busy = await freePort()
    servers.push(await listen(busy))
    const started = Date.now()
    let error: Error | undefined
    await ensureImageRsyncDaemon({ ...base, port: busy }).catch((e: Error) => (error = e))
    expect(error?.message).to.match(new RegExp(`port ${busy} on 127\\.0\\.0\\.1 is in use by another program`))
    expect(Date.now() - started).to.be.below(5000)
    expect(alive(before)).to.equal(true)
    expect(readFileSync(join(dirs.systemimager, 'xcat-rsyncd.conf'), 'utf8')).to.include(`\nport = ${port}\n`)
    expect(await ensureImageRsyncDaemon(base)).to.include({ pid: before, restarted: false, changed: false })
    expect((await rsync(`rsync://127.0.0.1:${port}/`)).code).to.equal(0)
  })

  it('does not start a second daemon on a port that is taken', async () => {
    const other = join(root, 'state-other')
    stateDirs.push(other)
    let error: Error | undefined
    await ensureImageRsyncDaemon({ ...base, dirs: { ...dirs, systemimager: join(root, 'etc2') }, stateDir: other }).catch((e: Error) => (error = e))
    expect(error?.message).to.match(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by another program`))
    expect(await runningImageRsyncDaemon(other)).to.equal(undefined)
  })

  it('restarts on a new port', async () => {
    const before = (await runningImageRsyncDaemon(stateDir))!
    const old = port
    port = await freePort()
    base = { ...base, port }
    const state = await ensureImageRsyncDaemon(base)
    expect(state).to.include({ started: false, restarted: true, changed: true })
    expect(state.pid).to.not.equal(before)
    expect(alive(before)).to.equal(false)
    expect((await rsync(`rsync://127.0.0.1:${port}/img2/marker`)).code).to.equal(0)
    expect((await rsync(`rsync://127.0.0.1:${old}/`)).code).to.not.equal(0)
  })

  it('stops the daemon, and starts a new one over a stale pid file', async () => {
    const pid = (await runningImageRsyncDaemon(stateDir))!
    expect(await stopImageRsyncDaemon(stateDir)).to.equal(true)
    expect(alive(pid)).to.equal(false)
    expect(existsSync(rsyncDaemonFiles(stateDir).pidFile)).to.equal(false)
    expect(await stopImageRsyncDaemon(stateDir)).to.equal(false)
    writeFileSync(rsyncDaemonFiles(stateDir).pidFile, `${process.pid}\n`)
    const state = await ensureImageRsyncDaemon(base)
    expect(state).to.include({ started: true, restarted: false, changed: false })
    expect(state.pid).to.not.equal(process.pid)
    expect((await rsync(`rsync://127.0.0.1:${port}/`)).code).to.equal(0)
    expect(await stopImageRsyncDaemon(stateDir)).to.equal(true)
    expect(alive(process.pid)).to.equal(true)
  })
})
