/**
 * Real Linux hosts for end-to-end tests: golden clients for capture, target nodes for deploy. Needs root.
 *
 * A host is a network namespace `xst<k>-<name>` reached from the management node (the root namespace) over a veth
 * pair: `xst<k>m` with `mnIp` 10.230.<k>.1/24 on the MN side, `eth0` with `ip` 10.230.<k>.2/24 inside. Its disk
 * is a loop device over a sparse file (partitioned with sfdisk, partitions added with partx as this kernel has no
 * partition table parsers), its root file system a debootstrap bookworm minbase unpacked from a tarball cached under
 * /var/cache/xcat-sysclone-test/ (built once, under a lock), mounted at `root` on the MN. Its first process
 * (host-init.sh) runs in the namespace with its own mount and UTS namespaces, sets the hostname and mounts /proc,
 * /sys, the machine's devtmpfs, /dev/pts, /run and the ESP (through fusefat: this kernel has no vfat) under the
 * root; sshd runs chrooted there, so `findmnt` over ssh shows / as the loop root partition and /boot/efi as the ESP
 * (type `fuse.vfat`, source the ESP's device). Everything lives in a directory /var/tmp/xst-hosts/xst<k> (loop
 * backing file `disk.img`, `root`, logs, the owner's pid) and is removed by `destroy()`; `cleanupLeftovers()`
 * removes what processes that are gone left behind.
 *
 * ```ts
 * const hosts = useTestHosts() // in a describe(): cleans leftovers before, destroys its hosts after, also on failure
 * const golden = await hosts.create({ name: 'golden1', disk: { sizeMiB: 1024, table: 'gpt', esp: true, swapMiB: 64 } })
 * await golden.ssh(['findmnt', '-J', '/'])                   // { code, stdout, stderr }, words quoted for the remote shell
 * spawn('rsync', ['-a', '-e', golden.rsyncShell(), `${golden.sshTarget}:/etc/`, dir])
 * await golden.exec(['blkid'])                                // in the host without ssh (nsenter + chroot)
 * golden.disk?.partition('root')?.dev                         // '/dev/loop3p2'; also uuid, partuuid, fsType, number
 * await golden.stopSshd(); await golden.startSshd(); await golden.cutNetwork(); await golden.restoreNetwork()
 * await hosts.create({ name: 'node1', disk: { table: 'none', sizeMiB: 2048 }, rootfs: 'tmpfs' }) // target node
 * await hosts.create({ name: 'nossh', disk: false, rootfs: 'tmpfs', sshd: false })             // refuses ssh
 * const blank = await hosts.blankDisk(512)                   // a loop disk without anything on it
 * ```
 * Disks: `table` 'gpt' (default: ESP 1, root 2, swap 3 if `swapMiB`), 'msdos' (ESP only if asked) or 'none'
 * (blank); `rootFs` 'ext4' (default) or 'xfs'. `rootfs` 'disk' (default) puts the root on the disk's root partition,
 * 'tmpfs' on a tmpfs (the disk is then left unmounted). `rsync: false` removes /usr/bin/rsync from the root,
 * `sshd: false` starts no sshd, `image` changes the debootstrap (another cached tarball).
 *
 * Inside a host: the ESP holds EFI/debian/{grubx64.efi,grub.cfg} and EFI/BOOT/BOOTX64.EFI placeholders (real grub
 * for BIOS and UEFI with `bootable: true`, which also adds a kernel and systemd: it boots in qemu); there is no
 * udev, so lsblk's FSTYPE, UUID, LABEL and PTTYPE columns are empty (blkid probes them); partitions made on a disk
 * inside need `partx -a`; /dev is the machine's devtmpfs (all its devices, shared: do not remove nodes); /proc and
 * /sys are the machine's (no PID namespace).
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { rmSync } from 'node:fs'
import { access, mkdir, mkdtemp, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { basename, join } from 'node:path'

/** Where hosts, blank disks and MN keys keep their files; every entry's name starts with `xst`. */
export const HOSTS_DIR = '/var/tmp/xst-hosts'
/** Where the root file system tarballs are cached between runs. */
export const ROOTFS_CACHE_DIR = '/var/cache/xcat-sysclone-test'
/** The packages debootstrap adds to minbase for a host's root: what capture needs on a golden client, fusefat for deploy. */
export const ROOTFS_PACKAGES: readonly string[] = ['openssh-server', 'rsync', 'iproute2', 'util-linux', 'e2fsprogs', 'dosfstools', 'fdisk', 'gdisk', 'mtools', 'fusefat', 'kmod', 'procps', 'cpio']
/** What a golden client that boots in a virtual machine adds: a kernel, an init, grub for BIOS and UEFI. */
export const BOOTABLE_PACKAGES: readonly string[] = [
  ...ROOTFS_PACKAGES,
  'linux-image-cloud-amd64', 'initramfs-tools', 'systemd-sysv', 'grub-efi-amd64-bin', 'grub-pc-bin', 'grub2-common', 'efibootmgr', 'ifupdown', 'netcat-openbsd',
]

const ROOTFS_FORMAT = 1
const HELPERS = import.meta.dirname
const BUILD_SCRIPT = join(HELPERS, 'build-rootfs.sh')
const INIT_SCRIPT = join(HELPERS, 'host-init.sh')
const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C', TERM: 'dumb' }
const MAX_HOSTS = 254

/** What a command printed and how it ended (`code` null when killed by `signal`). */
export interface HostCommandResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Input and a time limit for a command. */
export interface HostCommandOptions {
  readonly input?: string | Buffer
  readonly timeoutMs?: number
}

/** The debootstrap of a host's root file system: suite, mirror and packages added to minbase. */
export interface RootfsSpec {
  readonly suite?: string
  readonly mirror?: string
  readonly packages?: readonly string[]
}

/** File system types of a root partition. */
export type RootFsType = 'ext4' | 'xfs'

/** A loop disk's layout: a partition table with its partitions made and formatted, or 'none' for a blank disk. */
export interface DiskSpec {
  readonly sizeMiB?: number
  readonly table?: 'gpt' | 'msdos' | 'none'
  readonly esp?: boolean
  readonly espMiB?: number
  readonly swapMiB?: number
  readonly rootFs?: RootFsType
  /** A 1 MiB BIOS boot partition first (GPT), where grub's BIOS core image goes. */
  readonly biosBoot?: boolean
}

/** What a partition is for. */
export type PartitionRole = 'bios' | 'esp' | 'root' | 'swap'

/** A partition of a loop disk, as made and formatted. */
export interface DiskPartition {
  readonly number: number
  readonly dev: string
  readonly role: PartitionRole
  readonly sizeMiB: number
  readonly fsType: string
  readonly uuid: string
  readonly partuuid: string
}

/** A loop device over a sparse backing file. */
export interface LoopDisk {
  readonly dev: string
  readonly backingFile: string
  readonly sizeMiB: number
  readonly table: 'gpt' | 'msdos' | 'none'
  readonly partitions: readonly DiskPartition[]
  partition(role: PartitionRole): DiskPartition | undefined
}

/** A loop disk of its own, removed by `destroy()`. */
export interface BlankDisk extends LoopDisk {
  destroy(): Promise<void>
}

/** The MN's ssh key pair of this test run. */
export interface MnKey {
  readonly privateKey: string
  readonly publicKey: string
}

/** What `createTestHost` builds. */
export interface TestHostOptions {
  readonly name: string
  readonly disk?: DiskSpec | false
  readonly rootfs?: 'disk' | 'tmpfs'
  readonly tmpfsMiB?: number
  readonly sshd?: boolean
  readonly rsync?: boolean
  readonly image?: RootfsSpec
  /** Boots in a virtual machine: BOOTABLE_PACKAGES, grub installed for BIOS and UEFI, the kernel on the serial console. */
  readonly bootable?: boolean
}

/** A running test host. */
export interface TestHost {
  readonly name: string
  readonly netns: string
  readonly ip: string
  readonly mnIp: string
  readonly veth: string
  readonly dir: string
  readonly root: string
  readonly disk: LoopDisk | undefined
  readonly mnKey: MnKey
  readonly sshTarget: string
  sshOptions(): string[]
  rsyncShell(): string
  /** Runs argv inside the host (its namespaces, chrooted to its root) without ssh. */
  exec(argv: readonly string[], options?: HostCommandOptions): Promise<HostCommandResult>
  /** Runs argv on the host over ssh as root with the MN's key. */
  ssh(argv: readonly string[], options?: HostCommandOptions): Promise<HostCommandResult>
  stopSshd(): Promise<void>
  startSshd(): Promise<void>
  cutNetwork(): Promise<void>
  restoreNetwork(): Promise<void>
  /** Limits what the host sends to `mbit` Mbit/s (tc tbf on its eth0), so that a transfer from it takes a while; undefined lifts it. */
  limitUpload(mbit: number | undefined): Promise<void>
  destroy(): Promise<void>
}

/** Hosts and disks made within a mocha suite, destroyed after it. */
export interface TestHosts {
  create(options: TestHostOptions): Promise<TestHost>
  blankDisk(sizeMiB: number): Promise<BlankDisk>
}

/** Runs a command without a shell; never rejects for a non-zero exit. */
export function runProcess(cmd: string, args: readonly string[], options: HostCommandOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<HostCommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })
    })
    child.stdin.on('error', () => undefined)
    child.stdin.end(options.input ?? '')
  })
}

/** Runs a local command; its stdout, or an error naming the command, its status and its stderr. */
export async function must(cmd: string, args: readonly string[], options: HostCommandOptions = {}): Promise<string> {
  const r = await runProcess(cmd, args, options)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.code === null ? `killed by ${r.signal}` : `exit ${r.code}`}: ${r.stderr.trim()}`)
  return r.stdout
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const exists = (path: string) => access(path).then(() => true, () => false)

/** ssh options for logging in to test hosts with `key`, without known-hosts checks or prompts. */
export function sshOptions(key: string): string[] {
  return ['-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR']
}

/** The value of rsync's `-e` for test hosts: ssh with `sshOptions(key)` (rsync splits it at spaces). */
export function rsyncShell(key: string): string {
  if (/\s/.test(key)) throw new Error(`ssh key path with white space: ${key}`)
  return ['ssh', ...sshOptions(key)].join(' ')
}

/** Quotes a word for a POSIX shell, as the remote side of ssh runs one. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`
}

// Owners: a directory under HOSTS_DIR belongs to a process; what a gone process owned is a leftover.

interface Owner {
  readonly bootId: string
  readonly pid: number
  readonly start: string
}

function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

async function processStat(pid: number): Promise<{ state: string; ppid: number; start: string } | undefined> {
  try {
    const f = statFields(await readFile(`/proc/${pid}/stat`, 'utf8'))
    return { state: f[0] ?? '', ppid: Number(f[1]), start: f[19] ?? '' }
  } catch {
    return undefined
  }
}

let ownerPromise: Promise<Owner> | undefined
function currentOwner(): Promise<Owner> {
  ownerPromise ??= (async () => ({
    bootId: (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(),
    pid: process.pid,
    start: (await processStat(process.pid))?.start ?? '',
  }))()
  return ownerPromise
}

async function claim(dir: string): Promise<void> {
  await writeFile(join(dir, 'owner.json'), JSON.stringify(await currentOwner()))
}

async function ownerAlive(dir: string): Promise<boolean> {
  let owner: Owner
  try {
    owner = JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as Owner
  } catch {
    // Just made by mkdir, its owner not written yet, or never will be.
    const s = await stat(dir).catch(() => undefined)
    return s !== undefined && Date.now() - s.mtimeMs < 60_000
  }
  const me = await currentOwner()
  if (owner.bootId !== me.bootId) return false
  const s = await processStat(owner.pid)
  return s !== undefined && s.state !== 'Z' && s.start === owner.start
}

// The MN's key.

let mnKeyPromise: Promise<MnKey> | undefined

/** The MN's ed25519 key pair for this test run (made on first use, no passphrase), removed when the process exits. */
export function mnKey(): Promise<MnKey> {
  mnKeyPromise ??= (async () => {
    await mkdir(HOSTS_DIR, { recursive: true })
    const dir = await mkdtemp(join(HOSTS_DIR, 'xstkey-'))
    await claim(dir)
    const privateKey = join(dir, 'id_ed25519')
    await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'xcat-sysclone-e2e-mn', '-f', privateKey])
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    return { privateKey, publicKey: `${privateKey}.pub` }
  })()
  return mnKeyPromise
}

// The root file system tarball.

const rootfsBuilds = new Map<string, Promise<string>>()

/** The cached tarball of a debootstrapped root (built on first use, ~1.5 min; concurrent builders wait on a lock). */
export function rootfsTarball(spec: RootfsSpec = {}): Promise<string> {
  const suite = spec.suite ?? 'bookworm'
  const mirror = spec.mirror ?? 'http://deb.debian.org/debian'
  const packages = [...new Set(spec.packages ?? ROOTFS_PACKAGES)].sort()
  const key = createHash('sha256').update(JSON.stringify({ ROOTFS_FORMAT, suite, variant: 'minbase', packages })).digest('hex').slice(0, 16)
  const tarball = join(ROOTFS_CACHE_DIR, `rootfs-${suite}-${key}.tar`)
  let build = rootfsBuilds.get(tarball)
  if (build === undefined) {
    build = (async () => {
      await mkdir(ROOTFS_CACHE_DIR, { recursive: true })
      if (((await stat(tarball).catch(() => undefined))?.size ?? 0) > 0) return tarball
      await must('flock', ['--wait', '1800', `${tarball}.lock`, 'sh', BUILD_SCRIPT, tarball, suite, mirror, packages.join(',')], { timeoutMs: 1_900_000 })
      return tarball
    })()
    build.catch(() => rootfsBuilds.delete(tarball))
    rootfsBuilds.set(tarball, build)
  }
  return build
}

// Loop disks.

async function partitionNumbers(dev: string): Promise<number[]> {
  const name = basename(dev)
  const entries = await readdir(`/sys/block/${name}`).catch(() => [] as string[])
  return entries.filter((e) => e.startsWith(`${name}p`)).map((e) => Number(e.slice(name.length + 1))).filter((n) => Number.isInteger(n))
}

async function dropPartitions(dev: string): Promise<void> {
  for (const n of await partitionNumbers(dev)) await must('partx', ['--delete', '--nr', String(n), dev])
}

interface PlannedPartition {
  readonly role: PartitionRole
  readonly sizeMiB: number
  readonly type: string
}

function planPartitions(spec: Required<DiskSpec>): PlannedPartition[] {
  const plan: PlannedPartition[] = []
  if (spec.biosBoot) {
    if (spec.table !== 'gpt') throw new Error('a BIOS boot partition needs a GPT disk')
    plan.push({ role: 'bios', sizeMiB: 1, type: '21686148-6449-6E6F-744E-656564454649' })
  }
  if (spec.esp) plan.push({ role: 'esp', sizeMiB: spec.espMiB, type: 'U' })
  // 1 MiB before the first partition, 1 MiB for GPT's backup at the end.
  const rootMiB = spec.sizeMiB - 2 - (spec.biosBoot ? 1 : 0) - (spec.esp ? spec.espMiB : 0) - spec.swapMiB
  if (rootMiB < 64) throw new Error(`disk of ${spec.sizeMiB} MiB too small for its partitions`)
  plan.push({ role: 'root', sizeMiB: rootMiB, type: 'L' })
  if (spec.swapMiB > 0) plan.push({ role: 'swap', sizeMiB: spec.swapMiB, type: 'S' })
  return plan
}

async function probe(dev: string): Promise<Record<string, string>> {
  const r = await runProcess('blkid', ['-p', '-o', 'export', dev])
  const values: Record<string, string> = {}
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return values
}

async function format(dev: string, role: PartitionRole, rootFs: RootFsType): Promise<void> {
  if (role === 'bios') return
  if (role === 'esp') await must('mkfs.vfat', [dev])
  else if (role === 'swap') await must('mkswap', ['-L', 'swap', dev])
  else if (rootFs === 'xfs') await must('mkfs.xfs', ['-q', '-f', '-L', 'root', dev])
  else await must('mkfs.ext4', ['-q', '-F', '-L', 'root', dev])
}

async function waitForNode(dev: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await exists(dev)) return
    await sleep(100)
  }
  throw new Error(`${dev} did not appear`)
}

async function makeLoopDisk(dir: string, spec: DiskSpec): Promise<LoopDisk> {
  const table = spec.table ?? 'gpt'
  const full: Required<DiskSpec> = {
    sizeMiB: spec.sizeMiB ?? 1024,
    table,
    esp: spec.esp ?? table === 'gpt',
    espMiB: spec.espMiB ?? 64,
    swapMiB: spec.swapMiB ?? 0,
    rootFs: spec.rootFs ?? 'ext4',
    biosBoot: spec.biosBoot ?? false,
  }
  const backingFile = join(dir, 'disk.img')
  const file = await open(backingFile, 'wx')
  await file.truncate(full.sizeMiB * 1024 * 1024)
  await file.close()
  const dev = (await must('losetup', ['--find', '--show', backingFile])).trim()
  // Partitions a former user of this loop device added and left behind.
  await dropPartitions(dev)
  const partitions: DiskPartition[] = []
  if (table !== 'none') {
    const plan = planPartitions(full)
    const script = [`label: ${table === 'gpt' ? 'gpt' : 'dos'}`, ...plan.map((p) => `size=${p.sizeMiB}MiB, type=${p.type}${p.role === 'root' && table === 'msdos' ? ', bootable' : ''}`)]
    await must('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'always', dev], { input: `${script.join('\n')}\n` })
    await must('partx', ['--add', dev])
    await Promise.all(plan.map(async (p, i) => {
      const partDev = `${dev}p${i + 1}`
      await waitForNode(partDev)
      await format(partDev, p.role, full.rootFs)
    }))
    for (const [i, p] of plan.entries()) {
      const partDev = `${dev}p${i + 1}`
      const ids = await probe(partDev)
      partitions.push({ number: i + 1, dev: partDev, role: p.role, sizeMiB: p.sizeMiB, fsType: ids.TYPE ?? '', uuid: ids.UUID ?? '', partuuid: ids.PART_ENTRY_UUID ?? '' })
    }
  }
  return { dev, backingFile, sizeMiB: full.sizeMiB, table, partitions, partition: (role) => partitions.find((p) => p.role === role) }
}

// Tearing down: processes of a namespace, mounts and loop devices under a directory.

async function listNetns(): Promise<string[]> {
  const out = (await must('ip', ['-j', 'netns', 'list'])).trim()
  return out === '' ? [] : (JSON.parse(out) as { name: string }[]).map((n) => n.name)
}

async function netnsPids(netns: string): Promise<number[]> {
  const r = await runProcess('ip', ['netns', 'pids', netns])
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map(Number)
}

async function killAndWait(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  for (let i = 0; i < 100; i++) {
    const states = await Promise.all(pids.map(processStat))
    if (states.every((s) => s === undefined || s.state === 'Z')) return
    await sleep(50)
  }
  throw new Error(`processes ${pids.join(' ')} do not die`)
}

async function teardownNetns(netns: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const pids = await netnsPids(netns)
    if (pids.length === 0) break
    await killAndWait(pids)
  }
  await runProcess('ip', ['netns', 'delete', netns])
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8')
  return info.split('\n').map((l) => unescapeMountPath(l.split(' ')[4] ?? '')).filter((m) => m === dir || m.startsWith(`${dir}/`))
}

async function unmountUnder(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const mounts = (await mountsUnder(dir)).sort((a, b) => b.length - a.length)
    if (mounts.length === 0) return
    for (const m of mounts) {
      const r = await runProcess('umount', attempt < 20 ? [m] : ['--lazy', m])
      if (r.code !== 0 && attempt >= 20) throw new Error(`umount ${m}: ${r.stderr.trim()}`)
    }
    if (attempt > 0) await sleep(100)
  }
}

async function loopsBackedUnder(dir: string): Promise<string[]> {
  const out = (await must('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'])).trim()
  if (out === '') return []
  const loops = (JSON.parse(out) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices
  return loops.filter((l) => (l['back-file'] ?? '').startsWith(`${dir}/`)).map((l) => l.name)
}

async function detachLoop(dev: string): Promise<void> {
  await dropPartitions(dev)
  await must('losetup', ['--detach', dev])
}

async function teardownDir(dir: string): Promise<void> {
  const k = /^xst(\d+)$/.exec(basename(dir))?.[1]
  if (k !== undefined) {
    for (const ns of await listNetns()) if (ns === `xst${k}` || ns.startsWith(`xst${k}-`)) await teardownNetns(ns)
    await runProcess('ip', ['link', 'delete', `xst${k}m`])
  }
  await unmountUnder(dir)
  for (const dev of await loopsBackedUnder(dir)) await detachLoop(dev)
  for (let i = 0; (await loopsBackedUnder(dir)).length > 0; i++) {
    if (i === 50) throw new Error(`loop devices over ${dir} stay attached`)
    await sleep(100)
  }
  if ((await mountsUnder(dir)).length > 0) throw new Error(`${dir} still has mounts`)
  await rm(dir, { recursive: true, force: true })
}

/** Removes hosts, disks and keys whose creating process is gone (crashed runs), and strays named xst*; returns their names. */
export async function cleanupLeftovers(): Promise<string[]> {
  const removed: string[] = []
  const entries = await readdir(HOSTS_DIR).catch(() => [] as string[])
  for (const entry of entries.filter((e) => e.startsWith('xst'))) {
    const dir = join(HOSTS_DIR, entry)
    if (await ownerAlive(dir)) continue
    await teardownDir(dir)
    removed.push(entry)
  }
  for (const ns of await listNetns()) {
    const k = /^xst(\d+)(?:-|$)/.exec(ns)?.[1]
    if (k !== undefined && !(await exists(join(HOSTS_DIR, `xst${k}`)))) {
      await teardownNetns(ns)
      removed.push(ns)
    }
  }
  for (const dev of await loopsBackedUnder(HOSTS_DIR)) {
    const out = await must('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE', dev])
    const entry = out.trim().slice(HOSTS_DIR.length + 1).split('/')[0] ?? ''
    if (!(await exists(join(HOSTS_DIR, entry)))) {
      await detachLoop(dev)
      removed.push(dev)
    }
  }
  return removed
}

// Blank disks.

/** A blank loop disk of `sizeMiB` (no partition table, no file system), e.g. for a target node. */
export async function createBlankDisk(sizeMiB: number): Promise<BlankDisk> {
  await mkdir(HOSTS_DIR, { recursive: true })
  const dir = await mkdtemp(join(HOSTS_DIR, 'xstd-'))
  try {
    await claim(dir)
    const disk = await makeLoopDisk(dir, { sizeMiB, table: 'none' })
    let destroyed: Promise<void> | undefined
    return { ...disk, destroy: () => (destroyed ??= teardownDir(dir)) }
  } catch (e) {
    await teardownDir(dir)
    throw e
  }
}

// Hosts.

async function allocateSlot(): Promise<{ k: number; dir: string }> {
  await mkdir(HOSTS_DIR, { recursive: true })
  for (let k = 1; k <= MAX_HOSTS; k++) {
    const dir = join(HOSTS_DIR, `xst${k}`)
    try {
      await mkdir(dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw e
    }
    await claim(dir)
    // Strays of slot k whose directory was removed by hand.
    for (const ns of await listNetns()) if (ns === `xst${k}` || ns.startsWith(`xst${k}-`)) await teardownNetns(ns)
    await runProcess('ip', ['link', 'delete', `xst${k}m`])
    return { k, dir }
  }
  throw new Error(`all ${MAX_HOSTS} test host slots under ${HOSTS_DIR} are in use; cleanupLeftovers() removes those of dead runs`)
}

async function setUpNetwork(netns: string, veth: string, mnIp: string, ip: string): Promise<void> {
  const peer = `${veth.slice(0, -1)}h`
  await must('ip', ['netns', 'add', netns])
  await must('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', peer, 'netns', netns])
  await must('ip', ['-n', netns, 'link', 'set', peer, 'name', 'eth0'])
  await must('ip', ['address', 'add', `${mnIp}/24`, 'dev', veth])
  await must('ip', ['link', 'set', veth, 'up'])
  await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up'])
  await must('ip', ['-n', netns, 'address', 'add', `${ip}/24`, 'dev', 'eth0'])
  await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'up'])
  await must('ip', ['-n', netns, 'route', 'add', 'default', 'via', mnIp])
}

function fstab(disk: LoopDisk | undefined, rootfs: 'disk' | 'tmpfs'): string {
  const lines = ['# <file system> <mount point> <type> <options> <dump> <pass>']
  const root = disk?.partition('root')
  const esp = disk?.partition('esp')
  const swap = disk?.partition('swap')
  if (rootfs === 'tmpfs') lines.push('tmpfs / tmpfs defaults 0 0')
  else if (root !== undefined) lines.push(`UUID=${root.uuid} / ${root.fsType} ${root.fsType === 'ext4' ? 'errors=remount-ro' : 'defaults'} 0 1`)
  if (rootfs === 'disk' && esp !== undefined) lines.push(`UUID=${esp.uuid} /boot/efi vfat umask=0077 0 1`)
  if (swap !== undefined) lines.push(`UUID=${swap.uuid} none swap sw 0 0`)
  return `${lines.join('\n')}\n`
}

async function configureRoot(root: string, options: { name: string; ip: string; key: MnKey; disk: LoopDisk | undefined; rootfs: 'disk' | 'tmpfs'; rsync: boolean }): Promise<void> {
  await writeFile(join(root, 'etc/hostname'), `${options.name}\n`)
  await writeFile(join(root, 'etc/hosts'), `127.0.0.1\tlocalhost\n${options.ip}\t${options.name}\n`)
  await writeFile(join(root, 'etc/fstab'), fstab(options.disk, options.rootfs))
  await mkdir(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 })
  await writeFile(join(root, 'root/.ssh/authorized_keys'), await readFile(options.key.publicKey), { mode: 0o600 })
  await writeFile(join(root, 'etc/ssh/sshd_config.d/xst-e2e.conf'), [
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    'MaxStartups 64:30:128',
    'MaxSessions 64',
    '',
  ].join('\n'))
  await mkdir(join(root, 'boot/efi'), { recursive: true, mode: 0o700 })
  if (!options.rsync) await unlink(join(root, 'usr/bin/rsync'))
}

/** grub for UEFI (the distribution's path and the removable one) and, with a BIOS boot partition, for BIOS; the kernel on ttyS0. */
async function installBootLoaders(exec: (argv: readonly string[]) => Promise<HostCommandResult>, disk: LoopDisk): Promise<void> {
  const steps: string[][] = [
    ['sh', '-c', 'mkdir -p /etc/default/grub.d && printf \'%s\\n\' GRUB_TIMEOUT=1 \'GRUB_CMDLINE_LINUX="console=ttyS0,115200"\' GRUB_TERMINAL=serial \'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\' GRUB_DISABLE_OS_PROBER=true >/etc/default/grub.d/xst-serial.cfg'],
    ['grub-install', '--target=x86_64-efi', '--efi-directory=/boot/efi', '--bootloader-id=debian', '--no-nvram'],
    ['grub-install', '--target=x86_64-efi', '--efi-directory=/boot/efi', '--removable', '--no-nvram'],
  ]
  if (disk.partition('bios') !== undefined) steps.push(['grub-install', '--target=i386-pc', disk.dev])
  steps.push(['update-grub'])
  for (const argv of steps) {
    const r = await exec(argv)
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`)
  }
}

async function startInit(netns: string, root: string, name: string, espDev: string | undefined, log: string): Promise<number> {
  const logFile = await open(log, 'a')
  try {
    const child = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'sh', INIT_SCRIPT, root, name, espDev ?? ''], { stdio: ['ignore', 'pipe', logFile.fd] })
    child.unref()
    const { pid, stdout } = child
    if (stdout === null) throw new Error(`${name}: host-init.sh has no stdout`)
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`${name}: host-init.sh not ready after 60 s`)), 60_000)
      stdout.on('data', (b: Buffer) => void (out += b.toString()))
      stdout.on('end', () => {
        clearTimeout(timer)
        if (out.includes('ready')) resolve()
        else void readFile(log, 'utf8').then((text) => reject(new Error(`${name}: host-init.sh failed: ${text.trim()}`)), reject)
      })
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
    })
    if (pid === undefined) throw new Error(`${name}: host-init.sh has no pid`)
    return pid
  } finally {
    await logFile.close()
  }
}

async function waitForSsh(ip: string, sshdPid: number, log: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const banner = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: ip, port: 22 })
      let data = ''
      socket.setTimeout(2000, () => socket.destroy())
      socket.on('data', (b: Buffer) => {
        data += b.toString()
        if (data.includes('\n')) socket.destroy()
      })
      socket.on('close', () => resolve(data))
      socket.on('error', () => undefined)
    })
    if (banner.startsWith('SSH-')) return
    const s = await processStat(sshdPid)
    if (s === undefined || s.state === 'Z') throw new Error(`sshd exited: ${(await readFile(log, 'utf8')).trim()}`)
    await sleep(100)
  }
  throw new Error(`sshd on ${ip} does not answer: ${(await readFile(log, 'utf8')).trim()}`)
}

async function sshdProcesses(netns: string): Promise<number[]> {
  const pids = await netnsPids(netns)
  const parents = new Map<number, number>()
  const tree = new Set<number>()
  for (const pid of pids) {
    const s = await processStat(pid)
    if (s === undefined) continue
    parents.set(pid, s.ppid)
    if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'sshd') tree.add(pid)
  }
  for (let grown = true; grown;) {
    grown = false
    for (const [pid, parent] of parents) {
      if (!tree.has(pid) && tree.has(parent)) {
        tree.add(pid)
        grown = true
      }
    }
  }
  return [...tree]
}

/** Kills the sshd processes of a namespace and what their sessions run, frozen first so that none forks away. */
async function killSshd(netns: string, listener: number | undefined): Promise<void> {
  if (listener !== undefined) await killAndWait([listener])
  const frozen = new Set<number>()
  for (;;) {
    const fresh = (await sshdProcesses(netns)).filter((p) => !frozen.has(p))
    if (fresh.length === 0) break
    for (const pid of fresh) {
      frozen.add(pid)
      try {
        process.kill(pid, 'SIGSTOP')
      } catch {
        // Already gone.
      }
    }
  }
  await killAndWait([...frozen])
}

/** Builds and starts a host (see the module's comment); on failure removes what it made before throwing. */
export async function createTestHost(options: TestHostOptions): Promise<TestHost> {
  const { name } = options
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) throw new Error(`bad test host name ${JSON.stringify(name)}`)
  const rootfs = options.rootfs ?? 'disk'
  const diskSpec = options.disk === false ? undefined : options.disk ?? {}
  if (rootfs === 'disk' && (diskSpec === undefined || diskSpec.table === 'none')) throw new Error(`${name}: a root on disk needs a partitioned disk`)
  const bootable = options.bootable ?? false
  const [key, tarball] = await Promise.all([mnKey(), rootfsTarball(options.image ?? (bootable ? { packages: BOOTABLE_PACKAGES } : undefined))])
  const { k, dir } = await allocateSlot()
  const netns = `xst${k}-${name}`
  const veth = `xst${k}m`
  const ip = `10.230.${k}.2`
  const mnIp = `10.230.${k}.1`
  const root = join(dir, 'root')
  const sshdLog = join(dir, 'sshd.log')
  const wantSshd = options.sshd ?? true
  let initPid = 0
  let sshdPid: number | undefined
  try {
    const [disk] = await Promise.all([
      diskSpec === undefined ? undefined : makeLoopDisk(dir, diskSpec),
      setUpNetwork(netns, veth, mnIp, ip),
      mkdir(root),
    ])
    const rootPart = disk?.partition('root')
    if (rootfs === 'disk' && rootPart !== undefined) await must('mount', [rootPart.dev, root])
    else await must('mount', ['-t', 'tmpfs', '-o', `size=${options.tmpfsMiB ?? 1024}m,mode=0755`, 'tmpfs', root])
    await must('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '-xpf', tarball, '-C', root])
    await configureRoot(root, { name, ip, key, disk, rootfs, rsync: options.rsync ?? true })
    const esp = rootfs === 'disk' ? disk?.partition('esp') : undefined
    initPid = await startInit(netns, root, name, esp?.dev, join(dir, 'init.log'))

    const exec = (argv: readonly string[], opts: HostCommandOptions = {}) =>
      runProcess('nsenter', ['--target', String(initPid), '--mount', '--uts', '--net', '--', 'chroot', root, ...argv], { ...opts, env: HOST_ENV })
    const execOk = async (argv: readonly string[]) => {
      const r = await exec(argv)
      if (r.code !== 0) throw new Error(`${name}: ${argv.join(' ')}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`)
    }
    if (bootable) {
      if (disk === undefined || esp === undefined || rootfs !== 'disk') throw new Error(`${name}: a bootable host needs its root and ESP on its disk`)
      await installBootLoaders(exec, disk)
    } else if (esp !== undefined) {
      // Written through the host's fusefat mount: long names, shown in their case by every FAT reader.
      const efi = join(`/proc/${initPid}/root`, root, 'boot/efi')
      await mkdir(join(efi, 'EFI/debian'), { recursive: true })
      await mkdir(join(efi, 'EFI/BOOT'), { recursive: true })
      const grubCfg = `search.fs_uuid ${rootPart?.uuid ?? ''} root\nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n`
      await writeFile(join(efi, 'EFI/debian/grub.cfg'), grubCfg)
      await writeFile(join(efi, 'EFI/debian/grubx64.efi'), `placeholder grubx64.efi of ${name}\n`)
      await writeFile(join(efi, 'EFI/BOOT/BOOTX64.EFI'), `placeholder BOOTX64.EFI of ${name}\n`)
    }
    await execOk(['ssh-keygen', '-A'])

    const startSshd = async () => {
      if (sshdPid !== undefined) return
      const logFile = await open(sshdLog, 'a')
      try {
        const child = spawn('nsenter', ['--target', String(initPid), '--mount', '--uts', '--net', '--', 'chroot', root, '/usr/sbin/sshd', '-D', '-e', '-f', '/etc/ssh/sshd_config'], { stdio: ['ignore', logFile.fd, logFile.fd], env: HOST_ENV })
        child.unref()
        child.on('error', () => undefined)
        if (child.pid === undefined) throw new Error(`${name}: sshd did not start`)
        sshdPid = child.pid
      } finally {
        await logFile.close()
      }
      await waitForSsh(ip, sshdPid, sshdLog)
    }
    if (wantSshd) await startSshd()

    let destroyed: Promise<void> | undefined
    const host: TestHost = {
      name,
      netns,
      ip,
      mnIp,
      veth,
      dir,
      root,
      disk,
      mnKey: key,
      sshTarget: `root@${ip}`,
      sshOptions: () => sshOptions(key.privateKey),
      rsyncShell: () => rsyncShell(key.privateKey),
      exec,
      ssh: (argv, opts = {}) => runProcess('ssh', [...sshOptions(key.privateKey), '--', `root@${ip}`, ...argv.map(shellQuote)], opts),
      stopSshd: async () => {
        await killSshd(netns, sshdPid)
        sshdPid = undefined
      },
      startSshd,
      cutNetwork: async () => {
        await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'down'])
      },
      restoreNetwork: async () => {
        await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'up'])
        await must('ip', ['-n', netns, 'route', 'replace', 'default', 'via', mnIp])
        for (let i = 0; (await readFile(`/sys/class/net/${veth}/carrier`, 'utf8').catch(() => '0')).trim() !== '1'; i++) {
          if (i === 100) throw new Error(`${veth}: no carrier`)
          await sleep(50)
        }
        // Addresses left unresolved while cut would fail the next connections with "No route to host".
        await must('ip', ['neigh', 'flush', 'dev', veth])
        await must('ip', ['-n', netns, 'neigh', 'flush', 'dev', 'eth0'])
      },
      limitUpload: async (mbit) => {
        if (mbit === undefined) await must('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root'])
        else await must('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '64kb', 'latency', '400ms'])
      },
      destroy: () => (destroyed ??= teardownDir(dir)),
    }
    return host
  } catch (e) {
    await teardownDir(dir).catch((cleanup: unknown) => {
      throw new AggregateError([e, cleanup], `${name}: creating failed, and so did removing it`)
    })
    throw e
  }
}

/** Gives a describe() block hosts and blank disks: leftovers of dead runs removed before, its own destroyed after. */
export function useTestHosts(): TestHosts {
  const made: { destroy(): Promise<void> }[] = []
  before(async function () {
    this.timeout(120_000)
    await cleanupLeftovers()
  })
  after(async function () {
    this.timeout(120_000)
    const results = await Promise.allSettled(made.splice(0).map((m) => m.destroy()))
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
    if (errors.length > 0) throw new AggregateError(errors, 'removing test hosts failed')
  })
  return {
    create: async (options) => {
      const host = await createTestHost(options)
      made.push(host)
      return host
    },
    blankDisk: async (sizeMiB) => {
      const disk = await createBlankDisk(sizeMiB)
      made.push(disk)
      return disk
    },
  }
}
