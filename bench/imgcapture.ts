import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runNamedCommand } from '../lib/client/cli.js'
import { createTestCredentials, initTestDatabase, startTestDaemon } from '../test/helpers/daemon.js'
import { createTestDatabase } from '../test/helpers/databases.js'
import { dropCaches, generate } from './tree.js'
import { cleanupLeftovers, createTestHost, runProcess } from '../test/e2e/helpers/test-hosts.js'

const TOTAL_MB = Number(process.env.BENCH_CAPTURE_MB ?? 2048)
const FILES = Number(process.env.BENCH_CAPTURE_FILES ?? 100_000)

/** Changes about 1% of the files: appends to every 100th one. */
function change(dir: string, files: number): number {
  let changed = 0
  for (let i = 0; i < files; i += 100) {
    const kind = i < files - Math.floor(files / 200) - Math.floor(files / 20) ? 's' : i < files - Math.floor(files / 200) ? 'm' : 'l'
    appendFileSync(join(dir, `${kind}${Math.floor(i / 1000)}`, `f${i}`), 'changed\n')
    changed++
  }
  return changed
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const res = await runProcess(cmd, args, { timeoutMs: 3_600_000 })
  if (res.code !== 0) throw new Error(`${cmd}: ${res.stderr}`)
  return res.stdout
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  dropCaches()
  const start = performance.now()
  await fn()
  return (performance.now() - start) / 1000
}

/** imgcapture against plain rsync -aHAXS --numeric-ids over ssh of the same tree, first capture and re-capture after a 1% change. */
export async function benchImgcapture(): Promise<void> {
  await cleanupLeftovers()
  const work = mkdtempSync(join(tmpdir(), 'xcat-bench-capture-'))
  const db = await createTestDatabase('sqlite')
  const tables = db.open()
  const creds = await createTestCredentials()
  const host = await createTestHost({ name: 'benchgold', disk: { sizeMiB: TOTAL_MB * 2 + 1024, table: 'gpt', esp: true } })
  const saved = { sysconf: process.env.XCAT_SYSCONFDIR, identity: process.env.XCAT_SSH_IDENTITY }
  process.env.XCAT_SYSCONFDIR = join(work, 'etc')
  process.env.XCAT_SSH_IDENTITY = host.mnKey.privateKey
  const daemon = await (async () => {
    await initTestDatabase(tables, creds.confdir)
    await tables.setAttribs('site', { key: 'installdir' }, { value: join(work, 'install') })
    await tables.setAttribs('nodelist', { node: 'benchgold' }, { groups: 'all' })
    await tables.setAttribs('hosts', { node: 'benchgold' }, { ip: host.ip })
    return startTestDaemon(tables, { confdir: creds.confdir })
  })()
  try {
    console.log(`imgcapture: a golden client with ${FILES} generated files (~${TOTAL_MB} MB) on a loop disk, over ssh on a veth pair`)
    generate(join(host.root, 'srv', 'bench'), FILES, TOTAL_MB)
    const capture = () =>
      runNamedCommand('imgcapture', ['benchgold', '-t', 'sysclone', '-o', 'bench'], {
        env: { HOME: creds.rootHome, XCATHOST: `127.0.0.1:${daemon.port}` },
        cwd: work,
        out: { stdout: () => undefined, stderr: (t) => void process.stderr.write(t) },
      }).then((code) => {
        if (code !== 0) throw new Error(`imgcapture failed with ${code}`)
      })
    const excludes = ['--exclude=/proc/*', '--exclude=/sys/*', '--exclude=/dev/*', '--exclude=/run/*', '--exclude=/tmp/*']
    const baselineDir = join(work, 'baseline')
    const baseline = () => must('rsync', ['-aHAXS', '--numeric-ids', '--delete', ...excludes, '-e', host.rsyncShell(), `${host.sshTarget}:/`, `${baselineDir}/`])
    const firstBase = await timed(baseline)
    const firstOurs = await timed(capture)
    const changed = change(join(host.root, 'srv', 'bench'), FILES)
    const againBase = await timed(baseline)
    const againOurs = await timed(capture)
    console.log(`(${changed} files changed before the re-capture; page cache dropped before every run)`)
    console.log('run          imgcapture s   rsync s   ratio')
    console.log(`first     ${firstOurs.toFixed(1).padStart(13)} ${firstBase.toFixed(1).padStart(9)} ${(firstOurs / firstBase).toFixed(3).padStart(7)}`)
    console.log(`re-capture${againOurs.toFixed(1).padStart(13)} ${againBase.toFixed(1).padStart(9)} ${(againOurs / againBase).toFixed(3).padStart(7)}`)
  } finally {
    await daemon.stop()
    await host.destroy()
    await tables.close()
    await db.drop()
    creds.remove()
    rmSync(work, { recursive: true, force: true })
    if (saved.sysconf === undefined) delete process.env.XCAT_SYSCONFDIR
    else process.env.XCAT_SYSCONFDIR = saved.sysconf
    if (saved.identity === undefined) delete process.env.XCAT_SSH_IDENTITY
    else process.env.XCAT_SSH_IDENTITY = saved.identity
  }
}
