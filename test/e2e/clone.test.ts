import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { PROJECT_ROOT } from '../../lib/paths.js'
import type { SyscloneDirs } from '../../lib/sysclone/paths.js'
import { ensureImageRsyncDaemon, stopImageRsyncDaemon } from '../../lib/sysclone/rsync-daemon.js'
import { useTestDaemon } from '../helpers/daemon.js'
import { startFakeInstallMonitor, type FakeInstallMonitor } from '../helpers/fake-install-monitor.js'
import { freePort } from '../helpers/ports.js'
import { useMnEnvironment } from './helpers/capture-checks.js'
import { runInstaller } from './helpers/installer.js'
import { runProcess, useTestHosts, type TestHost } from './helpers/test-hosts.js'

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const POST_LOG = 'root/xst-post-install.log'

/** Runs a local command and fails the test when it fails. */
async function must(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const res = await runProcess(cmd, args, env ? { env } : {})
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr}`)
  return res.stdout
}

/** A partition as sfdisk --json shows it; the other fields (type, uuid, name, attrs) are compared as they come. */
type SfdiskPartition = { readonly node: string; readonly start: number; readonly size: number } & Readonly<Record<string, unknown>>

interface SfdiskTable {
  readonly label: string
  readonly id: string
  readonly lastlba?: number
  readonly partitions: readonly SfdiskPartition[]
}

async function partitionTable(disk: string): Promise<SfdiskTable> {
  return (JSON.parse(await must('sfdisk', ['--json', disk])) as { partitiontable: SfdiskTable }).partitiontable
}

/** What blkid reads from a device itself: TYPE, UUID, LABEL ... */
async function identity(dev: string): Promise<Record<string, string>> {
  const out = await must('blkid', ['-p', '-o', 'export', dev])
  const ids: Record<string, string> = {}
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0 && ['TYPE', 'UUID', 'LABEL', 'VERSION', 'PART_ENTRY_UUID', 'PART_ENTRY_TYPE'].includes(line.slice(0, eq))) ids[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return ids
}

/** True when the first `bytes` of a device are zeros. */
async function zeros(dev: string, bytes: number): Promise<boolean> {
  return (await runProcess('cmp', ['-n', String(bytes), dev, '/dev/zero'])).code === 0
}

/** A post-install script that records its name, the exported variables and facts of the chroot it runs in. */
function recorder(): string {
  return [
    '#!/bin/sh',
    `out=/${POST_LOG}`,
    'chroot_ok=no; [ -f /etc/systemimager/IMAGE_LAST_SYNCED_TO ] && [ -r /proc/self/mountinfo ] && [ -c /dev/null ] && chroot_ok=yes',
    'vars_ok=no; grep -q "^ESP_PARTNUM=1$" /tmp/post-install/variables.txt && vars_ok=yes',
    'echo "${0##*/} node=$NODE host=$HOSTNAME image=$IMAGENAME disk=$INSTALL_DISK firmware=$FIRMWARE esp=$ESP_DISK:$ESP_PARTNUM root=$ROOT_DEVICE master=$MASTER iport=$XCATIPORT mac=$MACADDRESS chroot=$chroot_ok vars=$vars_ok" >>"$out"',
    '',
  ].join('\n')
}

describe('sysclone: the installer clones a captured golden client onto target nodes', function () {
  this.timeout(900_000)
  const hosts = useTestHosts()
  let golden: TestHost
  let target: TestHost
  let dirs: SyscloneDirs
  let rsyncPort: number
  /** The installdir, the XCAT_SYSCONFDIR and the rsync daemon's state directory of this suite. */
  const [installdir, sysconfdir, stateDir] = ['xcat-install-', 'xcat-etc-', 'xcat-rsyncd-'].map((p) => mkdtempSync(join(tmpdir(), p))) as [string, string, string]
  let monitor: FakeInstallMonitor
  let syslog: Socket
  const syslogLines: string[] = []
  let mac: string
  let restoreEnvironment: (() => void) | undefined

  before(async () => {
    golden = await hosts.create({ name: 'golden1', disk: { sizeMiB: 1024, table: 'gpt', esp: true, swapMiB: 64 } })
    target = await hosts.create({ name: 'target1', disk: { sizeMiB: 1024, table: 'none' }, rootfs: 'tmpfs', tmpfsMiB: 512, sshd: false })
    await must('sh', ['-c', [
      'set -e; cd "$1"',
      'mkdir -p home/user1 srv/xst',
      'echo "a file in the golden client\'s /home" > home/user1/notes.txt && chown -R 1000:1000 home/user1',
      'echo attrs > srv/xst/xattr-file && setfattr -n user.xcat -v golden srv/xst/xattr-file',
      'echo acl > srv/xst/acl-file && setfacl -m u:1234:rwx srv/xst/acl-file',
      'echo hello > srv/xst/hardlink-a && ln srv/xst/hardlink-a srv/xst/hardlink-b',
      'truncate -s 64M srv/xst/sparse.img',
    ].join('\n'), 'sh', golden.root])
    restoreEnvironment = useMnEnvironment(sysconfdir, golden.mnKey.privateKey)
    mac = (JSON.parse(await must('ip', ['-n', target.netns, '-j', 'link', 'show', 'eth0'])) as { address: string }[])[0]!.address
  })

  const suite = useTestDaemon({
    seed: async (tables) => {
      await tables.setAttribs('site', { key: 'installdir' }, { value: installdir })
      await tables.setAttribs('nodelist', { node: 'golden1' }, { groups: 'golden,all' })
      await tables.setAttribs('hosts', { node: 'golden1' }, { ip: golden.ip })
    },
  })

  before(async () => {
    const res = await suite.xcatd.run(suite.creds.rootHome, 'imgcapture', ['golden1', '-t', 'sysclone', '-o', 'img1'])
    expect(res.code, res.stderr).to.equal(0)
    const home = join(installdir, 'sysclone')
    dirs = { home, images: join(home, 'images'), scripts: join(home, 'scripts'), overrides: join(home, 'overrides'), systemimager: join(sysconfdir, 'systemimager') }
    const post = join(dirs.scripts, 'post-install')
    for (const name of ['10all.record', '20img1.record', '30compute.record', '40target.record', '15target1.record', '50all.record~', '05other.record']) {
      writeFileSync(join(post, name), recorder())
      chmodSync(join(post, name), 0o755)
    }
    writeFileSync(join(dirs.scripts, 'cluster.txt'), 'target1:compute:img1:\n')
    writeFileSync(join(dirs.scripts, 'hosts'), `127.0.0.1\tlocalhost\n${target.ip}\ttarget1.cluster.test target1\n`)
    rsyncPort = await freePort()
    await ensureImageRsyncDaemon({ dirs, images: [{ name: 'img1', path: join(dirs.images, 'img1') }], allow: ['10.230.0.0/16'], port: rsyncPort, stateDir })
    monitor = await startFakeInstallMonitor('0.0.0.0')
    syslog = createSocket('udp4', (msg) => void syslogLines.push(msg.toString()))
    syslog.bind(0, '0.0.0.0')
    await once(syslog, 'listening')
  })

  after(async () => {
    await monitor?.close()
    syslog?.close()
    await stopImageRsyncDaemon(stateDir)
    restoreEnvironment?.()
    for (const dir of [installdir, sysconfdir, stateDir]) rmSync(dir, { recursive: true, force: true })
  })

  beforeEach(() => {
    monitor.reports.splice(0)
    syslogLines.splice(0)
  })

  /** Runs the installer on the target against `disk`, with the suite's image server, fake monitor and syslog. */
  function install(disk: string, env: Record<string, string> = {}) {
    return runInstaller(target, {
      disk,
      cmdline: `ramdisk_size=200000 XCAT=${target.mnIp}:3001 xcatd=${target.mnIp}:3001 SCRIPTNAME=img1 BOOTIF=01-${mac.replaceAll(':', '-')}`,
      imageServer: `${target.mnIp}:${rsyncPort}`,
      iport: monitor.port,
      env: { XCAT_SYSCLONE_SYSLOG_PORT: String(syslog.address().port), ...env },
    })
  }

  /** Mounts a file system read-only on the MN for a look, then unmounts it. */
  async function withMounted<T>(dev: string, look: (dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), 'xcat-clone-root-'))
    await must('mount', ['-o', 'ro', dev, dir])
    try {
      return await look(dir)
    } finally {
      await must('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    }
  }

  /** No process of the target's namespace still holds a disk (fusefat and the like). */
  async function leftovers(): Promise<string[]> {
    const pids = (await must('ip', ['netns', 'pids', target.netns])).split('\n').filter(Boolean)
    const names = pids.map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim()
      } catch {
        return ''
      }
    })
    return names.filter((n) => n !== '' && n !== 'sleep' && n !== 'sh')
  }

  const imageDir = () => join(dirs.images, 'img1')

  it('has imgcapture write the master script and its function library into the scripts module', async () => {
    const master = join(dirs.scripts, 'img1.master')
    expect(statSync(master).mode & 0o777).to.equal(0o755)
    const text = readFileSync(master, 'utf8')
    const root = golden.disk!.partition('root')!
    expect(text).to.include(`sysclone_mkfs ext4 "$DISK0_PART2" ${root.uuid} root || return 1`)
    expect(text).to.include('SYSCLONE_IMAGE_ACLS=yes\nSYSCLONE_IMAGE_XATTRS=yes\n')
    expect(readFileSync(join(dirs.scripts, 'xcat-sysclone', 'functions'), 'utf8')).to.equal(readFileSync(join(PROJECT_ROOT, 'share', 'xcat', 'sysclone', 'functions'), 'utf8'))
  })

  it('clones the golden client onto a disk of the same size: partitions, identities, files, fstab, post-install scripts', async () => {
    const disk = target.disk!.dev
    const res = await install(disk)
    expect(res.code, `${res.stdout}\n${res.stderr}`).to.equal(0)
    expect(res.stdout).to.include(`sysclone: ${target.ip} is target1 in the hosts file of the scripts module\n`)
    expect(res.stdout).to.include(`sysclone: the image img1 is installed on target1 (${disk})\n`)
    expect(monitor.reports).to.deep.equal([{ from: target.ip, line: 'installstatus installing' }, { from: target.ip, line: 'next' }])
    for (const line of ['HOSTNAME=target1', 'DEVICE=eth0', `IPADDR=${target.ip}`, 'IMAGENAME=img1', 'GROUPNAMES="compute"', `MASTER=${target.mnIp}`, `XCATIPORT=${monitor.port}`, `MACADDRESS=${mac}`, `INSTALL_DISK=${disk}`, 'IP_ASSIGNMENT_METHOD=dhcp']) {
      expect(res.variables.split('\n'), line).to.include(line)
    }

    const [goldenTable, table] = await Promise.all([partitionTable(golden.disk!.dev), partitionTable(disk)])
    expect(table.label).to.equal('gpt')
    expect(table.id).to.equal(goldenTable.id)
    const strip = (t: SfdiskTable) => t.partitions.map(({ node: _node, ...rest }) => rest)
    // The last partition takes the rest of the disk, as SystemImager's size="*" does: here the MiB the golden client left free.
    expect(strip(table).slice(0, 2)).to.deep.equal(strip(goldenTable).slice(0, 2))
    expect({ ...strip(table)[2], size: 0 }).to.deep.equal({ ...strip(goldenTable)[2], size: 0 })
    expect(table.partitions[2]!.start + table.partitions[2]!.size - 1).to.equal(table.lastlba)
    for (const n of [1, 2, 3]) expect(await identity(`${disk}p${n}`), `partition ${n}`).to.deep.equal(await identity(`${golden.disk!.dev}p${n}`))

    const esp = golden.disk!.partition('esp')!
    const root = golden.disk!.partition('root')!
    const swap = golden.disk!.partition('swap')!
    await withMounted(`${disk}p2`, async (clone) => {
      const diff = await runProcess('rsync', [
        '-n', '-c', '-i', '-aHAXS', '-O', '--numeric-ids', '--delete',
        '--exclude=/etc/fstab', '--exclude=/etc/systemimager/IMAGE_LAST_SYNCED_TO', `--exclude=/${POST_LOG}`, '--exclude=/boot/efi', '--exclude=/lost+found',
        `${imageDir()}/`, `${clone}/`,
      ])
      expect(diff.code, diff.stderr).to.equal(0)
      expect(diff.stdout.trim()).to.equal('')
      expect(readFileSync(join(clone, 'etc', 'fstab'), 'utf8')).to.equal([
        '# <file system> <mount point> <type> <options> <dump> <pass>',
        `UUID=${root.uuid}\t/\text4\terrors=remount-ro\t0\t1\t# ${disk}p2`,
        `UUID=${esp.uuid}\t/boot/efi\tvfat\tumask=0077\t0\t1\t# ${disk}p1`,
        `UUID=${swap.uuid}\tnone\tswap\tsw\t0\t0\t# ${disk}p3`,
        '',
      ].join('\n'))
      expect(readFileSync(join(clone, 'home', 'user1', 'notes.txt'), 'utf8')).to.equal("a file in the golden client's /home\n")
      expect(readFileSync(join(clone, 'etc', 'systemimager', 'IMAGE_LAST_SYNCED_TO'), 'utf8')).to.equal('img1\n')
      const facts = `node=target1 host=target1 image=img1 disk=${disk} firmware=bios esp=${disk}:1 root=${disk}p2 master=${target.mnIp} iport=${monitor.port} mac=${mac} chroot=yes vars=yes`
      expect(readFileSync(join(clone, POST_LOG), 'utf8').trim().split('\n')).to.deep.equal(['10all.record', '20img1.record', '40target.record', '30compute.record', '15target1.record'].map((s) => `${s} ${facts}`))
    })
    const mtools = { PATH, MTOOLS_SKIP_CHECK: '1' }
    expect(await must('mtype', ['-i', `${disk}p1`, '::/EFI/debian/grub.cfg'], mtools)).to.equal(readFileSync(join(imageDir(), 'boot', 'efi', 'EFI', 'debian', 'grub.cfg'), 'utf8'))
    expect(await must('mtype', ['-i', `${disk}p1`, '::/EFI/BOOT/BOOTX64.EFI'], mtools)).to.equal('placeholder BOOTX64.EFI of golden1\n')
    expect(await leftovers()).to.deep.equal([])
  })

  it('grows the last partition onto a larger disk and keeps the others as they were', async () => {
    const disk = await hosts.blankDisk(1536)
    const res = await install(disk.dev, { HOSTNAME: 'target2' })
    expect(res.code, `${res.stdout}\n${res.stderr}`).to.equal(0)
    const [goldenTable, table] = await Promise.all([partitionTable(golden.disk!.dev), partitionTable(disk.dev)])
    const strip = (t: SfdiskTable) => t.partitions.map(({ node: _node, ...rest }) => rest)
    expect(strip(table).slice(0, 2)).to.deep.equal(strip(goldenTable).slice(0, 2))
    const last = table.partitions[2]!
    expect(last.start).to.equal(goldenTable.partitions[2]!.start)
    expect(last.start + last.size - 1).to.equal(table.lastlba)
    expect(last.size).to.be.above(goldenTable.partitions[2]!.size + 1_000_000)
    expect(await identity(`${disk.dev}p3`)).to.include({ TYPE: 'swap', UUID: golden.disk!.partition('swap')!.uuid, LABEL: 'swap' })
    await withMounted(`${disk.dev}p2`, async (clone) => {
      expect(readFileSync(join(clone, POST_LOG), 'utf8').trim().split('\n').map((l) => l.split(' ')[0])).to.deep.equal(['10all.record', '20img1.record', '40target.record'])
    })
  })

  it('refuses a disk that is too small before writing anything to it, and reports it', async () => {
    const disk = await hosts.blankDisk(256)
    const res = await install(disk.dev, { HOSTNAME: 'target3' })
    expect(res.code).to.equal(1)
    expect(res.stdout).to.include(`sysclone: FATAL: step disks failed: target disk ${disk.dev} is 256 MiB, the image needs 1024 MiB\n`)
    expect(monitor.reports).to.deep.equal([{ from: target.ip, line: 'installstatus installing' }, { from: target.ip, line: 'installstatus failed:disks' }])
    expect(await zeros(disk.dev, 256 * 1048576)).to.equal(true)
    expect(syslogLines.some((l) => l.includes('xcat.sysclone') && l.includes(`installation of img1 on target3 failed in step disks: target disk ${disk.dev} is 256 MiB, the image needs 1024 MiB`)), syslogLines.join('\n')).to.equal(true)
  })

  it('erases the disk, not leaving it half-written, when the image server cannot be reached', async () => {
    const pre = join(dirs.scripts, 'pre-install')
    mkdirSync(pre, { recursive: true })
    // A pre-install script moves the image server away, as SystemImager's pre-install_variables.txt allows.
    writeFileSync(join(pre, '10target9.gone'), `#!/bin/sh\necho "IMAGESERVER=${target.mnIp}:1" >"$XCAT_SYSCLONE_TMP/pre-install_variables.txt"\n`, { mode: 0o755 })
    try {
      const disk = await hosts.blankDisk(1024)
      const res = await install(disk.dev, { HOSTNAME: 'target9' })
      expect(res.code).to.equal(1)
      expect(res.stdout).to.include(`sysclone: FATAL: step image failed: rsync of the image img1 from ${target.mnIp}:1 failed\n`)
      expect(res.stdout).to.include(`sysclone: erasing what this installation wrote to ${disk.dev}\n`)
      expect(monitor.reports.map((r) => r.line)).to.deep.equal(['installstatus installing', 'installstatus failed:image'])
      expect((await runProcess('sfdisk', ['--json', disk.dev])).code).to.not.equal(0)
      expect((await runProcess('blkid', ['-p', disk.dev])).code).to.equal(2)
      expect(await zeros(disk.dev, 1048576)).to.equal(true)
      expect(await leftovers()).to.deep.equal([])
    } finally {
      rmSync(pre, { recursive: true, force: true })
    }
  })

  it('erases the disk when a post-install script fails, after the image was copied', async () => {
    const script = join(dirs.scripts, 'post-install', '50target8.fail')
    writeFileSync(script, '#!/bin/sh\necho "no boot loader for you" >&2\nexit 3\n', { mode: 0o755 })
    try {
      const disk = await hosts.blankDisk(1024)
      const res = await install(disk.dev, { HOSTNAME: 'target8' })
      expect(res.code).to.equal(1)
      expect(res.stdout).to.include('sysclone: FATAL: step post-install failed: post-install script 50target8.fail failed with status 3\n')
      expect(monitor.reports.map((r) => r.line)).to.deep.equal(['installstatus installing', 'installstatus failed:post-install'])
      expect((await runProcess('sfdisk', ['--json', disk.dev])).code).to.not.equal(0)
      expect((await runProcess('blkid', ['-p', disk.dev])).code).to.equal(2)
      expect(await zeros(disk.dev, 1048576)).to.equal(true)
      for (const n of [1, 2, 3]) expect(statSync(`${disk.dev}p${n}`, { throwIfNoEntry: false })?.isBlockDevice() ?? false, `partition ${n}`).to.equal(false)
      expect(await leftovers()).to.deep.equal([])
    } finally {
      rmSync(script, { force: true })
    }
  })

  it('refuses the golden client\'s own disk, which is in use, and leaves it working', async () => {
    const before = await partitionTable(golden.disk!.dev)
    const res = await install(golden.disk!.dev, { HOSTNAME: 'target7' })
    expect(res.code).to.equal(1)
    expect(res.stdout).to.match(new RegExp(`sysclone: FATAL: step disks failed: refusing to touch ${golden.disk!.dev}: ${golden.disk!.dev}p\\d is mounted on `))
    expect(monitor.reports.map((r) => r.line)).to.deep.equal(['installstatus installing', 'installstatus failed:disks'])
    expect(await partitionTable(golden.disk!.dev)).to.deep.equal(before)
    expect((await golden.exec(['cat', '/home/user1/notes.txt'])).stdout).to.equal("a file in the golden client's /home\n")
  })
})
