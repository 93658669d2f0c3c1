import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runNamedCommand } from '../lib/client/cli.js'
import { createTestCredentials, initTestDatabase, startTestDaemon } from '../test/helpers/daemon.js'
import { createTestDatabase } from '../test/helpers/databases.js'
import { imagesSettled } from '../lib/sysclone/image-repository.js'
import { treeStore } from '../lib/sysclone/subvolume.js'
import { dropCaches, generate } from './tree.js'
import { useMnEnvironment } from '../test/e2e/helpers/capture-checks.js'
import { cleanupLeftovers, createBlankDisk, createTestHost, must, type BlankDisk } from '../test/e2e/helpers/test-hosts.js'

const TOTAL_MB = Number(process.env.BENCH_CAPTURE_MB ?? 2048)
const FILES = Number(process.env.BENCH_CAPTURE_FILES ?? 100_000)
const ROUNDS = Number(process.env.BENCH_CAPTURE_ROUNDS ?? 3)

/** Changes about 1% of the files: appends to every 100th one, starting at `offset`. */
function change(dir: string, files: number, offset: number): number {
  let changed = 0
  for (let i = offset; i < files; i += 100) {
    const kind = i < files - Math.floor(files / 200) - Math.floor(files / 20) ? 's' : i < files - Math.floor(files / 200) ? 'm' : 'l'
    appendFileSync(join(dir, `${kind}${Math.floor(i / 1000)}`, `f${i}`), 'changed\n')
    changed++
  }
  return changed
}

/** One timed run: `prepare` (untimed), the page cache dropped, then `run`. */
interface Job {
  readonly prepare?: () => Promise<unknown>
  readonly run: () => Promise<unknown>
}

async function timed(job: Job): Promise<number> {
  await job.prepare?.()
  dropCaches()
  const start = performance.now()
  await job.run()
  return (performance.now() - start) / 1000
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN

/** The median seconds of `ours` and of `base` over ROUNDS rounds, the one that goes first alternating; `before` starts each round. */
async function rounds(ours: Job, base: Job, before?: (round: number) => Promise<unknown>): Promise<{ ours: number; base: number }> {
  const times = { ours: [] as number[], base: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    await before?.(round)
    const pair: ['ours' | 'base', Job][] = [['base', base], ['ours', ours]]
    for (const [name, job] of round % 2 === 0 ? pair : pair.reverse()) times[name].push(await timed(job))
  }
  return { ours: median(times.ours), base: median(times.base) }
}

/** imgcapture against plain rsync -aHAXS --numeric-ids over ssh of the same tree, first capture and re-capture after a 1% change. */
export async function benchImgcapture(): Promise<void> {
  await cleanupLeftovers()
  const work = mkdtempSync(join(tmpdir(), 'xcat-bench-capture-'))
  const db = await createTestDatabase('sqlite')
  const tables = db.open()
  const creds = await createTestCredentials()
  const host = await createTestHost({ name: 'benchgold', disk: { sizeMiB: TOTAL_MB * 2 + 1024, table: 'gpt', esp: true } })
  const restoreEnvironment = useMnEnvironment(join(work, 'etc'), host.mnKey.privateKey)
  const daemon = await (async () => {
    await initTestDatabase(tables, creds.confdir)
    await tables.setAttribs('site', { key: 'installdir' }, { value: join(work, 'install') })
    await tables.setAttribs('nodelist', { node: 'benchgold' }, { groups: 'all' })
    await tables.setAttribs('hosts', { node: 'benchgold' }, { ip: host.ip })
    return startTestDaemon(tables, { confdir: creds.confdir })
  })()
  let btrfsDisk: BlankDisk | undefined
  try {
    btrfsDisk = await createBlankDisk(TOTAL_MB * 3 + 2048)
    console.log(`imgcapture: a golden client with ${FILES} generated files (~${TOTAL_MB} MB) on a loop disk, over ssh on a veth pair`)
    generate(join(host.root, 'srv', 'bench'), FILES, TOTAL_MB)
    const btrfsDir = join(dirname(btrfsDisk.backingFile), 'mnt')
    mkdirSync(btrfsDir)
    // Allocated up front, so that neither side pays for growing the sparse file under the loop device.
    await must('fallocate', ['-l', `${TOTAL_MB * 3 + 2048}MiB`, btrfsDisk.backingFile])
    await must('mkfs.btrfs', ['-q', '-f', btrfsDisk.dev])
    await must('mount', [btrfsDisk.dev, btrfsDir])
    const places: [string, string][] = [[`${(await must('stat', ['-f', '-c', '%T', work])).trim()} (hard links)`, work], ['btrfs (snapshots)', btrfsDir]]
    const rows: string[] = []
    for (const [index, [fs, dir]] of places.entries()) {
      await tables.setAttribs('site', { key: 'installdir' }, { value: join(dir, 'install') })
      const settle = async () => {
        await imagesSettled()
        if (fs.startsWith('btrfs')) await must('btrfs', ['subvolume', 'sync', dir])
      }
      const capture = () =>
        runNamedCommand('imgcapture', ['benchgold', '-t', 'sysclone', '-o', `bench${index}`], {
          env: { HOME: creds.rootHome, XCATHOST: `127.0.0.1:${daemon.port}` },
          cwd: work,
          out: { stdout: () => undefined, stderr: (t) => void process.stderr.write(t) },
        }).then((code) => {
          if (code !== 0) throw new Error(`imgcapture failed with ${code}`)
        })
      const excludes = ['--exclude=/proc/*', '--exclude=/sys/*', '--exclude=/dev/*', '--exclude=/run/*', '--exclude=/tmp/*']
      const baselineDir = join(dir, 'baseline')
      const baseline = () => must('rsync', ['-aHAXS', '--numeric-ids', '--delete', ...excludes, '-e', host.rsyncShell(), `${host.sshTarget}:/`, `${baselineDir}/`])
      const image = join(dir, 'install', 'sysclone', 'images', `bench${index}`)
      // Untimed: both copies made once, so the file system has grown to hold them before anything is timed (btrfs
      // stalls the one run that first outgrows its metadata chunks, whichever tool that is).
      await baseline()
      await capture()
      await settle()
      const first = await rounds(
        { prepare: () => treeStore.remove(image).then(settle), run: capture },
        { prepare: () => treeStore.remove(baselineDir).then(settle), run: baseline },
      )
      const again = await rounds({ run: capture, prepare: settle }, { run: baseline, prepare: settle }, (round) => {
        change(join(host.root, 'srv', 'bench'), FILES, index * ROUNDS + round)
        return settle()
      })
      await settle()
      rows.push(`${fs.padEnd(24)} first     ${first.ours.toFixed(1).padStart(13)} ${first.base.toFixed(1).padStart(9)} ${(first.ours / first.base).toFixed(3).padStart(7)}`)
      rows.push(`${fs.padEnd(24)} re-capture${again.ours.toFixed(1).padStart(13)} ${again.base.toFixed(1).padStart(9)} ${(again.ours / again.base).toFixed(3).padStart(7)}`)
    }
    console.log(`(medians of ${ROUNDS} rounds after an untimed run of each, which of the two runs first alternating; 1% of the files changed before each re-capture round; page cache dropped before every run; installdir and the baseline's copy on the same file system; imgcapture returns once the new image is in place and removes the tree it replaced in the background, and btrfs frees a deleted subvolume's space later still: both are waited for between runs)`)
    console.log('images on                run          imgcapture s   rsync s   ratio')
    for (const row of rows) console.log(row)
  } finally {
    await daemon.stop()
    await btrfsDisk?.destroy()
    await host.destroy()
    await tables.close()
    await db.drop()
    creds.remove()
    rmSync(work, { recursive: true, force: true })
    restoreEnvironment()
  }
}
