import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stopImageRsyncDaemon } from '../../../lib/sysclone/rsync-daemon.js'
import type { Tables } from '../../../lib/table/tables.js'
import { createTestCredentials, initTestDatabase, startTestDaemon, type TestCredentials, type TestDaemon } from '../../helpers/daemon.js'
import { createTestDatabase, type TestDatabase } from '../../helpers/databases.js'
import { freePort } from '../../helpers/ports.js'
import type { CommandResult } from '../../helpers/run-command.js'
import { runInstaller, type InstallerResult } from './installer.js'
import { cleanupLeftovers, createTestHost, runProcess, type TestHost } from './test-hosts.js'

/** A stand-in genesis kernel: the bytes nodeset looks at to tell an EFI stub kernel. */
const GENESIS_KERNEL = Buffer.concat([Buffer.alloc(128), Buffer.from([0x50, 0x45, 0x00, 0x00, 0x64, 0x86]), Buffer.alloc(1024)])

/** What a lab is made of: one golden client that boots (GPT: BIOS boot, ESP, root, swap; grub for both) and blank target nodes. */
export interface LabOptions {
  readonly golden: { readonly sizeMiB: number }
  readonly targets: readonly { readonly name: string; readonly sizeMiB: number }[]
  /** Fills the golden client's root (seen from the management node) before anything is captured. */
  readonly populate?: (root: string) => Promise<void>
}

/** A target node: a host in its own network namespace with a blank loop disk, and its MAC. */
export interface LabTarget {
  readonly host: TestHost
  readonly disk: string
  readonly mac: string
}

/** A management node (xcatd on every address, its tables, installdir and tftpdir) with its golden client and targets. */
export interface Lab {
  readonly golden: TestHost
  readonly targets: readonly LabTarget[]
  readonly xcatd: TestDaemon
  readonly tables: Tables
  readonly installdir: string
  readonly tftpdir: string
  /** Runs an xCAT command as root against the lab's xcatd. */
  run(command: string, argv: readonly string[]): Promise<CommandResult>
  /** The kernel command line of a node's xnba boot file, as the node's boot ROM would pass it. */
  kernelCommandLine(target: LabTarget): string
  /**
   * chain.currstate of a node once it is `state`, or as it is after `timeoutMs`: the install monitor answers "done"
   * before it moves the node on, as xCAT's does, so a node's report and its new state are not simultaneous.
   */
  currstate(node: string, state: string, timeoutMs?: number): Promise<string>
  /** Boots a target into the installer: its xnba command line, the image server and install monitor of the lab. */
  install(target: LabTarget, env?: Readonly<Record<string, string>>): Promise<InstallerResult>
  close(): Promise<void>
}

const ENV_KEYS = ['XCAT_SYSCONFDIR', 'XCAT_SSH_IDENTITY', 'XCAT_SYSCLONE_RSYNC_PORT', 'XCAT_SYSCLONE_RSYNC_STATEDIR'] as const

/** Builds the lab: hosts, a fresh SQLite database with xCAT's defaults and the nodes defined, and a running xcatd. */
export async function startLab(options: LabOptions): Promise<Lab> {
  await cleanupLeftovers()
  const root = mkdtempSync(join(tmpdir(), 'xcat-lab-'))
  const dirs = { installdir: join(root, 'install'), tftpdir: join(root, 'tftpboot'), sysconf: join(root, 'etc'), rsyncState: join(root, 'rsyncd') }
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]))
  const undo: (() => Promise<void> | void)[] = [() => rmSync(root, { recursive: true, force: true })]
  const close = async () => {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
    const errors: unknown[] = []
    for (const step of undo.splice(0).reverse()) {
      try {
        await step()
      } catch (e) {
        errors.push(e)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'tearing the lab down failed')
  }
  try {
    const hosts: TestHost[] = []
    undo.push(() => Promise.all(hosts.map((h) => h.destroy())).then(() => undefined))
    const create = async (o: Parameters<typeof createTestHost>[0]) => {
      const h = await createTestHost(o)
      hosts.push(h)
      return h
    }
    const [golden, ...targetHosts] = await Promise.all([
      create({ name: 'golden1', disk: { sizeMiB: options.golden.sizeMiB, table: 'gpt', biosBoot: true, esp: true, swapMiB: 64 }, bootable: true }),
      ...options.targets.map((t) => create({ name: t.name, disk: { sizeMiB: t.sizeMiB, table: 'none' }, rootfs: 'tmpfs', tmpfsMiB: 512, sshd: false })),
    ])
    if (golden === undefined) throw new Error('no golden client')
    await options.populate?.(golden.root)
    const targets: LabTarget[] = await Promise.all(targetHosts.map(async (host) => {
      const link = await runProcess('ip', ['-n', host.netns, '-j', 'link', 'show', 'eth0'])
      const mac = (JSON.parse(link.stdout) as { address: string }[])[0]?.address
      if (mac === undefined || host.disk === undefined) throw new Error(`${host.name}: no eth0 or no disk`)
      return { host, disk: host.disk.dev, mac }
    }))

    for (const dir of [join(dirs.tftpdir, 'xcat'), dirs.sysconf]) mkdirSync(dir, { recursive: true })
    writeFileSync(join(dirs.tftpdir, 'xcat', 'genesis.kernel.x86_64'), GENESIS_KERNEL)
    writeFileSync(join(dirs.tftpdir, 'xcat', 'genesis.fs.x86_64.lzma'), 'genesis initrd\n')
    writeFileSync(join(dirs.sysconf, 'hosts'), ['127.0.0.1\tlocalhost', ...targets.map((t) => `${t.host.ip}\t${t.host.name}.cluster.test ${t.host.name}`), ''].join('\n'))
    const rsyncPort = await freePort()
    Object.assign(process.env, { XCAT_SYSCONFDIR: dirs.sysconf, XCAT_SSH_IDENTITY: golden.mnKey.privateKey, XCAT_SYSCLONE_RSYNC_PORT: String(rsyncPort), XCAT_SYSCLONE_RSYNC_STATEDIR: dirs.rsyncState })
    undo.push(async () => void (await stopImageRsyncDaemon(dirs.rsyncState)))

    const db: TestDatabase = await createTestDatabase('sqlite')
    undo.push(() => db.drop())
    const tables = db.open()
    undo.push(() => tables.close())
    const creds: TestCredentials = await createTestCredentials()
    undo.push(() => creds.remove())
    await initTestDatabase(tables, creds.confdir)
    await seed(tables, dirs, golden, targets)
    const xcatd = await startTestDaemon(tables, { confdir: creds.confdir, host: '0.0.0.0' })
    undo.push(() => xcatd.stop())

    const kernelCommandLine = (target: LabTarget) => {
      const script = readFileSync(join(dirs.tftpdir, 'xcat', 'xnba', 'nodes', target.host.name), 'utf8')
      const args = script.split('\n').find((l) => l.startsWith('imgargs kernel '))
      if (args === undefined) throw new Error(`${target.host.name}: the xnba file has no kernel arguments:\n${script}`)
      return args.slice('imgargs kernel '.length).replaceAll('${netX/mac:hexhyp}', target.mac.replaceAll(':', '-'))
    }
    return {
      golden,
      targets,
      xcatd,
      tables,
      installdir: dirs.installdir,
      tftpdir: dirs.tftpdir,
      run: (command, argv) => xcatd.run(creds.rootHome, command, argv),
      kernelCommandLine,
      currstate: (node, state, timeoutMs = 10_000) => settle(async () => (await tables.getAttribs('chain', { node }))?.currstate ?? '', (now) => now === state, timeoutMs),
      install: (target, env = {}) => runInstaller(target.host, { disk: target.disk, cmdline: kernelCommandLine(target), imageServer: `${target.host.mnIp}:${rsyncPort}`, iport: xcatd.iport, env }),
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

/** What `read` gives once `done` accepts it, or after `timeoutMs` (looking every 100 ms). */
export async function settle<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  for (const until = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
    const value = await read()
    if (done(value) || Date.now() > until) return value
  }
}

/** The rows an administrator would have made: the golden client, and targets booting xnba from the MN facing them. */
async function seed(tables: Tables, dirs: { installdir: string; tftpdir: string }, golden: TestHost, targets: readonly LabTarget[]): Promise<void> {
  await tables.setMany('site', [{ keys: { key: 'installdir' }, values: { value: dirs.installdir } }, { keys: { key: 'tftpdir' }, values: { value: dirs.tftpdir } }])
  const nodes = [{ node: golden.name, groups: 'golden,all', ip: golden.ip }, ...targets.map((t) => ({ node: t.host.name, groups: 'compute,all', ip: t.host.ip }))]
  await tables.setMany('nodelist', nodes.map((n) => ({ keys: { node: n.node }, values: { groups: n.groups } })))
  await tables.setMany('hosts', nodes.map((n) => ({ keys: { node: n.node }, values: { ip: n.ip } })))
  await tables.setMany('mac', targets.map((t) => ({ keys: { node: t.host.name }, values: { mac: t.mac } })))
  await tables.setMany('noderes', targets.map((t) => ({ keys: { node: t.host.name }, values: { netboot: 'xnba', xcatmaster: t.host.mnIp } })))
}
