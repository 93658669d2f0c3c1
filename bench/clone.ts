import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startLab, type LabTarget } from '../test/e2e/helpers/lab.js'
import { runProcess } from '../test/e2e/helpers/test-hosts.js'
import { dropCaches, generate } from './tree.js'

const DATA_MB = Number(process.env.BENCH_CLONE_MB ?? 1024)
const FILES = Number(process.env.BENCH_CLONE_FILES ?? 20_000)
const COUNTS = (process.env.BENCH_CLONE_COUNTS ?? '1,4,8').split(',').map(Number)

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const res = await runProcess(cmd, args, { timeoutMs: 3_600_000 })
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}${res.stdout.slice(-2000)}`)
  return res.stdout
}

/** Runs one job per target at once; the seconds of each and of the whole, after the page cache was dropped. */
async function concurrently(targets: readonly LabTarget[], job: (t: LabTarget) => Promise<void>): Promise<{ each: number[]; total: number }> {
  dropCaches()
  const start = performance.now()
  const each = await Promise.all(targets.map(async (t) => {
    await job(t)
    return (performance.now() - start) / 1000
  }))
  return { each, total: (performance.now() - start) / 1000 }
}

const mbps = (bytes: number, seconds: number) => (bytes / 1048576 / seconds).toFixed(1)

/** Clones 1, 4 and 8 targets at once from one image server against rsync of the same image into as many plain directories. */
export async function benchClone(): Promise<void> {
  const most = Math.max(...COUNTS)
  const sizeMiB = DATA_MB + 2048
  const lab = await startLab({
    golden: { disk: { sizeMiB, table: 'gpt', esp: true, swapMiB: 64 } },
    targets: Array.from({ length: most }, (_, i) => ({ name: `clone${i + 1}`, sizeMiB })),
    populate: async (root) => generate(join(root, 'srv', 'bench'), FILES, DATA_MB),
  })
  const plain = join('/var/tmp', `xst-bench-clone-${process.pid}`)
  try {
    const captured = await lab.run('imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'])
    if (captured.code !== 0) throw new Error(`imgcapture failed: ${captured.stderr}`)
    const image = join(lab.installdir, 'sysclone', 'images', 'img1')
    const bytes = Number((await must('du', ['-sb', image])).split('\t')[0])
    const port = process.env.XCAT_SYSCLONE_RSYNC_PORT
    console.log(`clone: an image of ${mbps(bytes, 1)} MB (${FILES} generated files and a Debian root) served by the image rsync daemon; each target a ${sizeMiB} MiB loop disk in its own network namespace`)
    console.log('targets   clone s   rsync s   ratio   clone MB/s per target (mean)   aggregate MB/s clone / rsync')
    for (const n of COUNTS) {
      const targets = lab.targets.slice(0, n)
      const prepared = await lab.run('nodeset', [targets.map((t) => t.host.name).join(','), 'osimage=img1'])
      if (prepared.code !== 0) throw new Error(`nodeset failed: ${prepared.stderr}`)
      const clone = await concurrently(targets, async (t) => {
        const res = await lab.install(t)
        if (res.code !== 0) throw new Error(`${t.host.name}: the installer failed:\n${res.stdout.slice(-3000)}\n${res.stderr}`)
      })
      mkdirSync(plain, { recursive: true })
      const baseline = await concurrently(targets, async (t) => {
        await must('ip', ['netns', 'exec', t.host.netns, 'rsync', '-aHAXS', '--numeric-ids', `rsync://${t.host.mnIp}:${port}/img1/`, join(plain, t.host.name)])
      })
      rmSync(plain, { recursive: true, force: true })
      const perTarget = clone.each.reduce((a, s) => a + bytes / 1048576 / s, 0) / n
      console.log(`${String(n).padStart(7)} ${clone.total.toFixed(1).padStart(9)} ${baseline.total.toFixed(1).padStart(9)} ${(clone.total / baseline.total).toFixed(3).padStart(7)} ${perTarget.toFixed(1).padStart(30)} ${`${mbps(bytes * n, clone.total)} / ${mbps(bytes * n, baseline.total)}`.padStart(30)}`)
    }
  } finally {
    rmSync(plain, { recursive: true, force: true })
    await lab.close()
  }
}
