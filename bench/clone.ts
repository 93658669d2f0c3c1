import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startLab, type LabTarget } from '../test/e2e/helpers/lab.js'
import { must, runProcess } from '../test/e2e/helpers/test-hosts.js'
import { dropCaches, generate } from './tree.js'

const DATA_MB = Number(process.env.BENCH_CLONE_MB ?? 1024)
const FILES = Number(process.env.BENCH_CLONE_FILES ?? 20_000)
const COUNTS = (process.env.BENCH_CLONE_COUNTS ?? '1,4,8').split(',').map(Number)

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

/** The seconds the installer's log gives for step `step` ("sysclone: step image took 3.7 s"). */
function stepSeconds(log: string, step: string): number {
  const m = new RegExp(`^sysclone: step ${step} took ([\\d.]+) s$`, 'm').exec(log)
  if (!m) throw new Error(`no time for step ${step} in the installer's log`)
  return Number(m[1])
}

const mean = (values: readonly number[]) => values.reduce((a, v) => a + v, 0) / values.length

/**
 * Clones 1, 4 and 8 targets at once from one image server against rsync of the same image from the same server into
 * as many plain directories, each the root of a fresh ext4 on the same target disk and synced at the end (a clone's
 * data is on disk when it reports, so the baseline's is too).
 */
export async function benchClone(): Promise<void> {
  const most = Math.max(...COUNTS)
  const sizeMiB = DATA_MB + 2048
  const lab = await startLab({
    golden: { sizeMiB },
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
    console.log(`clone: an image of ${mbps(bytes, 1)} MB (${FILES} generated files and a bootable Debian root) served by the image rsync daemon; each target a ${sizeMiB} MiB loop disk in its own network namespace`)
    console.log('baseline: rsync -aHAXS --numeric-ids of the image module into a fresh ext4 on each target\'s disk, then sync; page cache dropped before each run')
    console.log('targets   clone s   rsync s   ratio   image step s (mean)   rsync s (mean)   clone MB/s per target   aggregate MB/s clone / rsync')
    for (const n of COUNTS) {
      const targets = lab.targets.slice(0, n)
      const prepared = await lab.run('nodeset', [targets.map((t) => t.host.name).join(','), 'osimage=img1'])
      if (prepared.code !== 0) throw new Error(`nodeset failed: ${prepared.stderr}`)
      const imageSteps: number[] = []
      const clone = await concurrently(targets, async (t) => {
        const res = await lab.install(t)
        if (res.code !== 0) throw new Error(`${t.host.name}: the installer failed:\n${res.stdout.slice(-3000)}\n${res.stderr}`)
        imageSteps.push(stepSeconds(res.stdout, 'image'))
      })
      await Promise.all(targets.map(async (t) => {
        mkdirSync(join(plain, t.host.name), { recursive: true })
        await must('mkfs.ext4', ['-q', '-F', t.disk])
        await must('mount', [t.disk, join(plain, t.host.name)])
      }))
      const baseline = await concurrently(targets, async (t) => {
        const dir = join(plain, t.host.name)
        await must('ip', ['netns', 'exec', t.host.netns, 'rsync', '-aHAXS', '--numeric-ids', `rsync://${t.host.mnIp}:${port}/img1/`, `${dir}/`])
        await must('sync', ['-f', dir])
      })
      for (const t of targets) await must('umount', [join(plain, t.host.name)])
      rmSync(plain, { recursive: true, force: true })
      const perTarget = mean(clone.each.map((s) => bytes / 1048576 / s))
      console.log([
        String(n).padStart(7),
        clone.total.toFixed(1).padStart(9),
        baseline.total.toFixed(1).padStart(9),
        (clone.total / baseline.total).toFixed(3).padStart(7),
        mean(imageSteps).toFixed(1).padStart(21),
        mean(baseline.each).toFixed(1).padStart(16),
        perTarget.toFixed(1).padStart(23),
        `${mbps(bytes * n, clone.total)} / ${mbps(bytes * n, baseline.total)}`.padStart(30),
      ].join(' '))
    }
  } finally {
    await runProcess('sh', ['-c', 'for d in "$1"/*; do umount "$d" 2>/dev/null; rmdir "$d"; done; rmdir "$1"', 'sh', plain])
    await lab.close()
  }
}
