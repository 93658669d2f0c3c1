import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runNamedCommand } from '../lib/client/cli.js'
import { stopImageRsyncDaemon } from '../lib/sysclone/rsync-daemon.js'
import { POST_INSTALL_SCRIPTS } from '../lib/sysclone/post-install.js'
import type { Tables } from '../lib/table/tables.js'
import { createTestCredentials, initTestDatabase, startTestDaemon } from '../test/helpers/daemon.js'
import { createTestDatabase, type TestDatabase } from '../test/helpers/databases.js'
import { freePort } from '../test/helpers/ports.js'
import { collectLayout } from '../lib/sysclone/layout/collect.js'
import { ReplayProbe } from '../test/unit/sysclone/layout/replay-probe.js'

const SIZES = (process.env.BENCH_NODESET_SIZES ?? "1,100,1000,10000").split(",").map(Number)
const LOADERS = (process.env.BENCH_NODESET_LOADERS ?? 'xnba,grub2').split(',') as ('xnba' | 'grub2')[]
const MAX = SIZES[SIZES.length - 1] ?? 0

function ip(i: number): string {
  return `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`
}

function mac(i: number): string {
  return `42:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`
}

/** Defines MAX nodes per loader (groups <loader><size> of the first <size> nodes), the image and the genesis files. */
async function seed(tables: Tables, work: string): Promise<void> {
  const install = join(work, 'install')
  const tftp = join(work, 'tftpboot')
  for (const [key, value] of Object.entries({ installdir: install, tftpdir: tftp, dhcpsetup: 'n' })) await tables.setAttribs('site', { key }, { value })
  for (const loader of LOADERS) {
    const nodes = Array.from({ length: MAX }, (_, i) => ({ node: `${loader}${i + 1}`, i: i + (loader === 'xnba' ? 0 : MAX) }))
    const groups = (k: number) => ['all', ...SIZES.filter((s) => k < s).map((s) => `set${s}${loader}`)].join(',')
    await tables.setMany('nodelist', nodes.map((n, k) => ({ keys: { node: n.node }, values: { groups: groups(k) } })))
    await tables.setMany('hosts', nodes.map((n) => ({ keys: { node: n.node }, values: { ip: ip(n.i) } })))
    await tables.setMany('mac', nodes.map((n) => ({ keys: { node: n.node }, values: { mac: mac(n.i) } })))
    await tables.setAttribs('noderes', { node: `set${MAX}${loader}` }, { netboot: loader, xcatmaster: '10.100.255.254' })
  }
  await tables.setAttribs('osimage', { imagename: 'img1' }, { provmethod: 'sysclone', osvers: 'rhels9.4', osarch: 'x86_64', profile: 'compute', imagetype: 'linux' })
  const image = join(install, 'sysclone', 'images', 'img1')
  await tables.setAttribs('linuximage', { imagename: 'img1' }, { rootimgdir: image })
  mkdirSync(join(image, 'etc', 'systemimager'), { recursive: true })
  // The disk layout nodeset renders the master script from: the recorded GPT golden client of the layout tests.
  writeFileSync(join(image, 'etc', 'systemimager', 'layout.json'), JSON.stringify(await collectLayout(ReplayProbe.of('gpt'))))
  mkdirSync(join(tftp, 'xcat'), { recursive: true })
  writeFileSync(join(tftp, 'xcat', 'genesis.kernel.x86_64'), Buffer.concat([Buffer.alloc(64), Buffer.from([0x50, 0x45, 0, 0, 0x64, 0x86]), Buffer.alloc(512)]))
  writeFileSync(join(tftp, 'xcat', 'genesis.fs.x86_64.lzma'), 'initrd')
  mkdirSync(join(tftp, 'boot', 'grub2'), { recursive: true })
  writeFileSync(join(tftp, 'boot', 'grub2', 'grub2.x86_64'), 'grub')
  mkdirSync(join(install, 'postscripts'), { recursive: true })
  for (const name of POST_INSTALL_SCRIPTS.values()) writeFileSync(join(install, 'postscripts', name), '#!/bin/sh\n')
  mkdirSync(join(work, 'etc'), { recursive: true })
  writeFileSync(join(work, 'etc', 'hosts'), '127.0.0.1 localhost\n')
}

/** Entries (files and links) under `dir`. */
function countEntries(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countEntries(join(dir, e.name)) : 1
  return n
}

/** The physical floor: the same number of small files written plainly (no temp names, no links) on the same disk. */
function plainWrites(dir: string, count: number): number {
  mkdirSync(dir, { recursive: true })
  const start = performance.now()
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `n${i}`), `#!gpxe\n#sysclone rhels9.4-x86_64\nimgargs kernel ramdisk_size=200000 ${i}\n`)
  const seconds = (performance.now() - start) / 1000
  rmSync(dir, { recursive: true, force: true })
  return seconds
}

async function benchBackend(backend: TestDatabase['backend']): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'xcat-bench-nodeset-'))
  const db = await createTestDatabase(backend)
  const tables = db.open()
  const creds = await createTestCredentials()
  const saved = { ...process.env }
  Object.assign(process.env, { XCAT_SYSCONFDIR: join(work, 'etc'), XCAT_SYSCLONE_RSYNC_PORT: String(await freePort()), XCAT_SYSCLONE_RSYNC_STATEDIR: join(work, 'rsyncd') })
  try {
    await initTestDatabase(tables, creds.confdir)
    await seed(tables, work)
    const daemon = await startTestDaemon(tables, { confdir: creds.confdir })
    const run = async (range: string) => {
      let err = ''
      const start = performance.now()
      const code = await runNamedCommand('nodeset', [range, 'osimage=img1'], { env: { HOME: creds.rootHome, XCATHOST: `127.0.0.1:${daemon.port}` }, cwd: work, out: { stdout: () => undefined, stderr: (t) => void (err += t) } })
      if (code !== 0) throw new Error(`nodeset ${range} failed: ${err.slice(0, 500)}`)
      return (performance.now() - start) / 1000
    }
    await run('xnba1')
    console.log(`nodeset <nodes> osimage=img1 through xcatd on ${backend}; baseline = plain writeFileSync of the same number of files on the same disk`)
    console.log('loader  nodes   seconds   nodes/s   entries   entries/s   baseline s   ratio')
    for (const loader of LOADERS) {
      for (const size of SIZES) {
        const seconds = await run(`set${size}${loader}`)
        const files = countEntries(join(work, 'tftpboot', loader === 'xnba' ? 'xcat/xnba/nodes' : 'boot/grub2')) - (loader === 'grub2' ? 1 : 0)
        const floor = plainWrites(join(work, 'plain'), files)
        console.log(`${loader.padEnd(6)} ${String(size).padStart(6)} ${seconds.toFixed(2).padStart(9)} ${(size / seconds).toFixed(0).padStart(9)} ${String(files).padStart(9)} ${(files / seconds).toFixed(0).padStart(11)} ${floor.toFixed(2).padStart(12)} ${(seconds / floor).toFixed(2).padStart(6)}x`)
      }
    }
    await daemon.stop()
  } finally {
    await stopImageRsyncDaemon(join(work, 'rsyncd'))
    process.env = saved
    await tables.close()
    await db.drop()
    creds.remove()
    rmSync(work, { recursive: true, force: true })
  }
}

/** nodeset for 1 to 10,000 nodes with xnba and grub2 on SQLite and PostgreSQL, against plain file writes. */
export async function benchNodeset(): Promise<void> {
  for (const backend of (process.env.BENCH_NODESET_BACKENDS ?? 'sqlite,pg').split(',') as TestDatabase['backend'][]) {
    await benchBackend(backend)
    console.log('')
  }
}
