/**
 * The node-side post-install scripts (postscripts/) run as the sysclone installer runs them: chrooted into a clone
 * on a loop disk (GPT: BIOS boot partition, ESP, ext4 root, swap) made from the e2e test hosts' debootstrap root
 * plus grub, efibootmgr, initramfs-tools, ifupdown and netcat, with /proc, /sys, /dev and /run mounted, the ESP
 * through fusefat (this kernel has no vfat), all in a private mount and PID namespace. Needs root.
 *
 * With XCAT_TEST_KERNEL=1 a second root with Debian's kernel (linux-image-amd64) is built (once, cached) and
 * makeinitrd and efibootloader run against the real kernel as well.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import net from 'node:net'
import { chmod, copyFile, lstat, mkdir, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { expect } from 'chai'
import { ROOTFS_PACKAGES, rootfsTarball, runProcess, useTestHosts, type BlankDisk, type HostCommandResult } from '../e2e/helpers/test-hosts.js'

const POSTSCRIPTS = join(import.meta.dirname, '../../postscripts')
const FIXTURES = join(import.meta.dirname, '../fixtures/postscripts')
const CHROOT_RUN = join(FIXTURES, 'chroot-run.sh')
const SCRIPTS = ['efibootloader', 'update_network', 'runxcatpost', 'makeinitrd', 'fix_swap_uuids', 'regen_identity'] as const
/** What the scripts need in the clone beyond the test hosts' root. */
const EXTRA_PACKAGES = ['grub-pc-bin', 'grub-efi-amd64-bin', 'grub2-common', 'efibootmgr', 'initramfs-tools', 'ifupdown', 'netcat-openbsd']
const CLONE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** The golden client's NIC, which the node does not have, and the node's boot NIC. */
const GOLDEN_MAC = '52:54:00:aa:bb:cc'
const NODE_MAC = '52:54:00:12:34:56'
const BIOS_BOOT_TYPE = '21686148-6449-6E6F-744E-656564454649'

async function must(cmd: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await runProcess(cmd, args, options)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`)
  return r.stdout
}

const exists = (path: string) => lstat(path).then(() => true, () => false)

/**
 * A clone on a loop disk: its partitions and its root, mounted at `root` in a mount namespace of its own (held by
 * a `sleep`), so that mount namespaces other test runs make meanwhile do not copy the mount and keep the disk
 * busy; the test reaches the files through /proc/<holder>/root (`file()`).
 */
interface Clone {
  readonly disk: BlankDisk
  readonly root: string
  readonly work: string
  readonly dev: { readonly bios: string; readonly esp: string; readonly root: string; readonly swap: string }
  readonly uuid: { readonly esp: string; readonly root: string; readonly swap: string }
  /** Runs argv chrooted into the clone (see chroot-run.sh) with only `env` (and PATH) in its environment. */
  run(argv: readonly string[], env?: Record<string, string>, options?: { esp?: boolean; timeoutMs?: number }): Promise<HostCommandResult>
  /** Runs one of postscripts/ in the clone, as the installer does. */
  script(name: string, env?: Record<string, string>, options?: { esp?: boolean; timeoutMs?: number }): Promise<HostCommandResult>
  /** Paths of the ESP's files and directories ("/EFI/BOOT/BOOTX64.EFI"), read with mtools from the device. */
  espList(): Promise<string[]>
  /** A file of the ESP, read with mtools. */
  espRead(path: string): Promise<Buffer>
  espWrite(path: string, data: Buffer | string): Promise<void>
  espClear(): Promise<void>
  blkid(dev: string, tag: string): Promise<string>
  /** A path of the clone's root as the test reaches it. */
  file(path: string): string
  /** Ends the mount namespace (the root is unmounted with it); the disk itself goes with the suite's test hosts. */
  destroy(): Promise<void>
}

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' }

async function waitForNode(dev: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await exists(dev)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${dev} did not appear`)
}

/**
 * Starts the process whose mount namespace holds the clone's root: a private copy of the machine's mounts without
 * those of loop devices (other test runs' disks, which this namespace would otherwise keep busy), plus the root.
 */
async function startHolder(rootDev: string, root: string): Promise<ChildProcess> {
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', join(FIXTURES, 'hold-root.sh'), rootDev, root], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error('the clone\'s mount namespace did not start')), 30_000)
    holder.stdout?.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    holder.stderr?.on('data', (b: Buffer) => void (err += b.toString()))
    holder.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the clone's mount namespace ended (exit ${code}): ${err}`))
    })
  })
  return holder
}

async function stopHolder(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()))
  holder.kill('SIGKILL')
  await exited
}

/** Unpacks the root and adds what the installer writes before post-install: fstab, /tmp/post-install. */
async function fillRoot(file: (path: string) => string, tarball: string, uuid: { esp: string; root: string; swap: string }, swapDev: string): Promise<void> {
  await must('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '-xpf', tarball, '-C', file('')])
  await writeFile(file('etc/fstab'), [
    '# <file system> <mount point> <type> <options> <dump> <pass>',
    `UUID=${uuid.root}\t/\text4\terrors=remount-ro\t0\t1`,
    `UUID=${uuid.esp}\t/boot/efi\tvfat\tumask=0077\t0\t1`,
    `UUID=${uuid.swap}\tnone\tswap\tsw\t0\t0\t# ${swapDev}`,
    '',
  ].join('\n'))
  await mkdir(file('boot/efi'), { recursive: true })
  await mkdir(file('tmp/post-install'), { recursive: true })
  for (const s of SCRIPTS) await copyFile(join(POSTSCRIPTS, s), file(`tmp/post-install/${s}`))
}

/** Partitions, formats and fills a blank loop disk with the root in `tarball`. */
async function makeClone(disk: BlankDisk, tarball: string): Promise<Clone> {
  const dev = disk.dev
  const layout = ['label: gpt', `size=1MiB, type=${BIOS_BOOT_TYPE}`, 'size=64MiB, type=U', `size=${disk.sizeMiB - 64 - 1 - 48 - 2}MiB, type=L`, 'size=48MiB, type=S']
  await must('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'always', dev], { input: `${layout.join('\n')}\n` })
  await must('partx', ['--add', dev])
  const part = (n: number) => `${dev}p${n}`
  await Promise.all([1, 2, 3, 4].map((n) => waitForNode(part(n))))
  await must('mkfs.vfat', [part(2)])
  await must('mkfs.ext4', ['-q', '-F', '-L', 'root', part(3)])
  await must('mkswap', ['-L', 'swap', part(4)])
  const work = dirname(disk.backingFile)
  const root = join(work, 'root')
  await mkdir(root)
  const holder = await startHolder(part(3), root)
  const file = (path: string) => join(`/proc/${holder.pid}/root`, root, path)
  const blkid = async (d: string, tag: string) => (await runProcess('blkid', ['-c', '/dev/null', '-o', 'value', '-s', tag, d])).stdout.trim()
  const uuid = { esp: await blkid(part(2), 'UUID'), root: await blkid(part(3), 'UUID'), swap: await blkid(part(4), 'UUID') }
  try {
    await fillRoot(file, tarball, uuid, part(4))
  } catch (e) {
    await stopHolder(holder)
    throw e
  }

  const run: Clone['run'] = (argv, env = {}, options = {}) => {
    const assignments = Object.entries({ PATH: CLONE_PATH, LANG: 'C', ...env }).map(([k, v]) => `${k}=${v}`)
    return runProcess('nsenter', ['--target', String(holder.pid), '--mount', '--', 'unshare', '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', 'sh', CHROOT_RUN, root, options.esp === false ? '-' : part(2), 'env', '-i', ...assignments, ...argv], { timeoutMs: options.timeoutMs ?? 120_000 })
  }
  return {
    disk,
    root,
    work,
    dev: { bios: part(1), esp: part(2), root: part(3), swap: part(4) },
    uuid,
    run,
    script: (name, env, options) => run(['/bin/sh', `/tmp/post-install/${name}`], env, options),
    espList: async () => {
      const r = await runProcess('mdir', ['-/', '-b', '-i', part(2), '::/'], { env: MTOOLS_ENV })
      // mdir reports an empty root directory as not found.
      if (r.code !== 0 && r.stderr.includes('File "::/" not found')) return []
      if (r.code !== 0) throw new Error(`mdir ${part(2)}: ${r.stderr}`)
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^::/, '').replace(/\/$/, ''))
    },
    espRead: async (path) => {
      const out = join(work, 'esp-read')
      await rm(out, { force: true })
      await must('mcopy', ['-n', '-i', part(2), `::${path}`, out], { env: MTOOLS_ENV })
      return readFile(out)
    },
    espWrite: async (path, data) => {
      const src = join(work, 'esp-write')
      await writeFile(src, data)
      const dirs = path.split('/').slice(1, -1)
      for (let i = 1; i <= dirs.length; i++) await runProcess('mmd', ['-i', part(2), `::/${dirs.slice(0, i).join('/')}`], { env: MTOOLS_ENV })
      await must('mcopy', ['-o', '-i', part(2), src, `::${path}`], { env: MTOOLS_ENV })
    },
    espClear: async () => {
      const r = await runProcess('mdir', ['-/', '-b', '-i', part(2), '::/'], { env: MTOOLS_ENV })
      const top = r.code === 0 ? r.stdout.split('\n').filter((l) => /^::\/[^/]+\/?$/.test(l)) : []
      for (const entry of top) await must(entry.endsWith('/') ? 'mdeltree' : 'mdel', ['-i', part(2), entry.replace(/\/$/, '')], { env: MTOOLS_ENV })
    },
    blkid,
    file,
    destroy: () => stopHolder(holder),
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** The stdout and stderr of a run, for failure messages. */
const output = (r: HostCommandResult) => `exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

function expectOk(r: HostCommandResult): void {
  expect(r.code, output(r)).to.equal(0)
}

/** xcatd's install monitor as a node sees it: "ready", one line, "done". */
async function installMonitor(): Promise<{ port: number; lines: string[]; close(): Promise<void> }> {
  const lines: string[] = []
  const server = net.createServer((socket) => {
    socket.setEncoding('utf8')
    let buf = ''
    socket.write('ready\n')
    socket.on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        lines.push(buf.slice(0, nl).replace(/\r$/, ''))
        socket.end('done\n')
      }
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return { port, lines, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

describe('postscripts', function () {
  describe('as files', function () {
    for (const name of SCRIPTS) {
      it(`${name} is an executable POSIX sh script that shellcheck -s sh passes`, async function () {
        const path = join(POSTSCRIPTS, name)
        const text = await readFile(path, 'utf8')
        expect(text.split('\n')[0]).to.equal('#!/bin/sh')
        expect(text).to.match(/^set -u$/m)
        expect((await stat(path)).mode & 0o111).to.equal(0o111)
        const sc = await runProcess('shellcheck', ['-s', 'sh', path])
        expect(sc.code, sc.stdout + sc.stderr).to.equal(0)
        expect(sc.stdout + sc.stderr).to.equal('')
        const dash = await runProcess('sh', ['-n', path])
        expect(dash.code, dash.stderr).to.equal(0)
      })
    }
  })

  describe('in the chroot of a clone on a loop disk', function () {
    this.timeout(180_000)
    let clone: Clone
    // Before the test hosts' own after hook (hooks run in order): the root is unmounted before the disk goes.
    after(async () => {
      if (clone !== undefined) await clone.destroy()
    })
    const hosts = useTestHosts()

    before(async function () {
      if (process.getuid?.() !== 0) this.skip()
      this.timeout(40 * 60_000)
      const tarball = await rootfsTarball({ packages: [...ROOTFS_PACKAGES, ...EXTRA_PACKAGES] })
      clone = await makeClone(await hosts.blankDisk(1024), tarball)
    })

    describe('update_network', function () {
      const goldenState = async () => {
        await writeFile(clone.file('etc/hostname'), 'golden1\n')
        await writeFile(clone.file('etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tgolden1.cluster golden1\n10.0.0.1\tmn\n')
        await mkdir(clone.file('etc/udev/rules.d'), { recursive: true })
        await writeFile(clone.file('etc/udev/rules.d/70-persistent-net.rules'), `SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="${GOLDEN_MAC}", NAME="eth0"\n`)
        await writeFile(clone.file('etc/network/interfaces'), '# interfaces(5)\nsource /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n    address 10.9.9.9/24\n    gateway 10.9.9.1\n')
        await rm(clone.file('etc/network/interfaces.d'), { recursive: true, force: true })
        await mkdir(clone.file('etc/network/interfaces.d'))
        await writeFile(clone.file('etc/network/interfaces.d/eth1'), `allow-hotplug eth1\niface eth1 inet dhcp\n    hwaddress ether ${GOLDEN_MAC.replace(/c$/, 'd')}\n`)
        await rm(clone.file('var/lib/xcat'), { recursive: true, force: true })
      }

      it('writes the ifupdown configuration (DHCP), the host name and hosts line, and removes the golden client\'s NIC pinning', async function () {
        await goldenState()
        const r = await clone.script('update_network', { NODE: 'target1', DEVICE: 'eth0', MACADDRESS: NODE_MAC }, { esp: false })
        expectOk(r)
        expect(await readFile(clone.file('etc/hostname'), 'utf8')).to.equal('target1\n')
        const hostsFile = await readFile(clone.file('etc/hosts'), 'utf8')
        expect(hostsFile).to.match(/^127\.0\.1\.1\ttarget1$/m)
        expect(hostsFile).not.to.include('golden1')
        expect(hostsFile).to.match(/^10\.0\.0\.1\tmn$/m)
        expect(await exists(clone.file('etc/udev/rules.d/70-persistent-net.rules'))).to.equal(false)
        expect(await exists(clone.file('var/lib/xcat/sysclone/removed/etc/udev/rules.d/70-persistent-net.rules'))).to.equal(true)
        expect(await readFile(clone.file('etc/network/interfaces.d/eth0'), 'utf8')).to.match(/^auto eth0\niface eth0 inet dhcp$/m)
        const interfaces = await readFile(clone.file('etc/network/interfaces'), 'utf8')
        expect(interfaces).not.to.include('eth0')
        expect(interfaces).to.include('iface lo inet loopback')
        // eth1 keeps its stanza, not the golden client's MAC address.
        expect(await readFile(clone.file('etc/network/interfaces.d/eth1'), 'utf8')).to.equal('allow-hotplug eth1\niface eth1 inet dhcp\n')
      })

      it('writes a static ifupdown stanza and the node\'s address in /etc/hosts from IPADDR, NETMASK and GATEWAY', async function () {
        await goldenState()
        const r = await clone.script('update_network', { NODE: 'target1', DOMAIN: 'cluster', BOOTIF: `01-${NODE_MAC.replaceAll(':', '-')}`, DEVICE: 'eth0', IPADDR: '10.1.2.3', NETMASK: '255.255.0.0', GATEWAY: '10.1.0.254', NAMESERVERS: '10.1.0.1,10.1.0.2' }, { esp: false })
        expectOk(r)
        expect(await readFile(clone.file('etc/network/interfaces.d/eth0'), 'utf8')).to.include('auto eth0\niface eth0 inet static\n    address 10.1.2.3/16\n    gateway 10.1.0.254\n    dns-nameservers 10.1.0.1 10.1.0.2\n    dns-search cluster\n')
        const hostsFile = await readFile(clone.file('etc/hosts'), 'utf8')
        expect(hostsFile).to.match(/^10\.1\.2\.3\ttarget1\.cluster target1$/m)
        expect(hostsFile).not.to.include('127.0.1.1')
      })

      it('takes the node\'s name and NIC from variables.txt, and a static address from there only with IP_ASSIGNMENT_METHOD=static', async function () {
        await goldenState()
        const variables = ['HOSTNAME=target2', 'DOMAINNAME=cluster', 'DEVICE=eth0', 'IPADDR=10.5.5.5', 'NETMASK=255.255.255.0', 'GATEWAY=10.5.5.1', 'GROUPNAMES="compute"']
        await writeFile(clone.file('tmp/post-install/variables.txt'), `${variables.join('\n')}\n`)
        try {
          expectOk(await clone.script('update_network', { MACADDRESS: NODE_MAC }, { esp: false }))
          expect(await readFile(clone.file('etc/hostname'), 'utf8')).to.equal('target2\n')
          expect(await readFile(clone.file('etc/hosts'), 'utf8')).to.match(/^127\.0\.1\.1\ttarget2\.cluster target2$/m)
          expect(await readFile(clone.file('etc/network/interfaces.d/eth0'), 'utf8')).to.include('iface eth0 inet dhcp\n')

          await writeFile(clone.file('tmp/post-install/variables.txt'), `${[...variables, 'IP_ASSIGNMENT_METHOD=static'].join('\n')}\n`)
          expectOk(await clone.script('update_network', { MACADDRESS: NODE_MAC }, { esp: false }))
          expect(await readFile(clone.file('etc/network/interfaces.d/eth0'), 'utf8')).to.include('iface eth0 inet static\n    address 10.5.5.5/24\n    gateway 10.5.5.1\n')
        } finally {
          await rm(clone.file('tmp/post-install/variables.txt'), { force: true })
        }
      })

      it('refuses a static address without a netmask, and a missing node name, with a clear message', async function () {
        await goldenState()
        const noMask = await clone.script('update_network', { NODE: 'target1', DEVICE: 'eth0', IPADDR: '10.1.2.3' }, { esp: false })
        expect(noMask.code).to.equal(1)
        expect(noMask.stderr).to.include('IPADDR=10.1.2.3 without NETMASK or PREFIX')
        const noName = await clone.script('update_network', { DEVICE: 'eth0' }, { esp: false })
        expect(noName.code).to.equal(1)
        expect(noName.stderr).to.include('no node name')
      })

      it('writes a NetworkManager keyfile (mode 600) when NetworkManager is installed and enabled, and retires the golden client\'s profiles', async function () {
        await goldenState()
        const nmBin = clone.file('usr/sbin/NetworkManager')
        const wants = clone.file('etc/systemd/system/multi-user.target.wants')
        const connections = clone.file('etc/NetworkManager/system-connections')
        await mkdir(wants, { recursive: true })
        await mkdir(connections, { recursive: true })
        try {
          await writeFile(nmBin, '#!/bin/sh\nexit 0\n', { mode: 0o755 })
          await symlink('/lib/systemd/system/NetworkManager.service', join(wants, 'NetworkManager.service'))
          await writeFile(join(connections, 'Wired connection 1.nmconnection'), `[connection]\nid=Wired connection 1\ntype=ethernet\n\n[ethernet]\nmac-address=${GOLDEN_MAC.toUpperCase()}\n\n[ipv4]\nmethod=auto\n`, { mode: 0o600 })
          await writeFile(join(connections, 'static.nmconnection'), '[connection]\nid=static\ntype=ethernet\n\n[ipv4]\nmethod=manual\naddress1=10.9.9.9/24\n', { mode: 0o600 })
          await writeFile(join(connections, 'bond0.nmconnection'), '[connection]\nid=bond0\ntype=bond\ninterface-name=bond0\n', { mode: 0o600 })
          const r = await clone.script('update_network', { NODE: 'target1', DEVICE: 'eth0', MACADDRESS: NODE_MAC }, { esp: false })
          expectOk(r)
          expect(r.stdout).to.include('network tool: nm')
          const keyfile = join(connections, 'eth0.nmconnection')
          expect((await stat(keyfile)).mode & 0o777).to.equal(0o600)
          const text = await readFile(keyfile, 'utf8')
          expect(text).to.match(/^type=ethernet$/m)
          expect(text).to.match(/^uuid=[0-9a-f-]{36}$/m)
          expect(text).to.match(/^mac-address=52:54:00:12:34:56$/im)
          expect(text).to.match(/\[ipv4\]\nmethod=auto\n/)
          expect(text).not.to.match(/^interface-name=/m)
          expect((await readdir(connections)).sort()).to.deep.equal(['bond0.nmconnection', 'eth0.nmconnection'])
        } finally {
          await rm(nmBin, { force: true })
          await rm(clone.file('etc/systemd/system/multi-user.target.wants/NetworkManager.service'), { force: true })
          await rm(connections, { recursive: true, force: true })
        }
      })

      it('writes netplan, ifcfg, wicked and systemd-networkd configurations when NETWORK_TOOL names them, static and by MAC address', async function () {
        const env = { NODE: 'target1', DEVICE: 'eth0', MACADDRESS: NODE_MAC, IPADDR: '10.1.2.3', PREFIX: '24', GATEWAY: '10.1.2.254' }
        const cases: [string, string, RegExp[]][] = [
          ['netplan', 'etc/netplan/01-xcat.yaml', [/^ {4}eth0:\n {6}match:\n {8}macaddress: "52:54:00:12:34:56"\n {6}dhcp4: false\n {6}addresses: \["10\.1\.2\.3\/24"\]\n {6}routes:\n {8}- to: default\n {10}via: 10\.1\.2\.254$/m]],
          ['ifcfg', 'etc/sysconfig/network-scripts/ifcfg-eth0', [/^DEVICE=eth0$/m, /^HWADDR=52:54:00:12:34:56$/m, /^BOOTPROTO=none$/m, /^IPADDR=10\.1\.2\.3$/m, /^PREFIX=24$/m, /^GATEWAY=10\.1\.2\.254$/m, /^ONBOOT=yes$/m]],
          ['wicked', 'etc/sysconfig/network/ifcfg-eth0', [/^BOOTPROTO='static'$/m, /^IPADDR='10\.1\.2\.3\/24'$/m, /^STARTMODE='auto'$/m]],
          ['networkd', 'etc/systemd/network/10-xcat-eth0.network', [/^\[Match\]\nMACAddress=52:54:00:12:34:56$/m, /^Address=10\.1\.2\.3\/24$/m, /^Gateway=10\.1\.2\.254$/m]],
        ]
        try {
          for (const [tool, file, patterns] of cases) {
            await goldenState()
            const r = await clone.script('update_network', { ...env, NETWORK_TOOL: tool }, { esp: false })
            expectOk(r)
            const text = await readFile(clone.file(file), 'utf8')
            for (const p of patterns) expect(text, `${tool}: ${file}`).to.match(p)
          }
          expect((await stat(clone.file('etc/netplan/01-xcat.yaml'))).mode & 0o777).to.equal(0o600)
          expect(await readFile(clone.file('etc/sysconfig/network/ifroute-eth0'), 'utf8')).to.match(/^default 10\.1\.2\.254 - eth0$/m)
        } finally {
          for (const d of ['etc/netplan', 'etc/sysconfig', 'etc/systemd/network']) await rm(clone.file(d), { recursive: true, force: true })
        }
      })
    })

    it('regen_identity makes new SSH host keys and a new machine-id, and links /var/lib/dbus/machine-id to it', async function () {
      expectOk(await clone.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', '/etc/ssh/ssh_host_ed25519_key'], {}, { esp: false }))
      const goldenKey = await readFile(clone.file('etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')
      const goldenId = '0123456789abcdef0123456789abcdef'
      await writeFile(clone.file('etc/machine-id'), `${goldenId}\n`)
      await mkdir(clone.file('var/lib/dbus'), { recursive: true })
      await writeFile(clone.file('var/lib/dbus/machine-id'), `${goldenId}\n`)
      await mkdir(clone.file('var/lib/systemd'), { recursive: true })
      await writeFile(clone.file('var/lib/systemd/random-seed'), 'golden seed')

      const r = await clone.script('regen_identity', {}, { esp: false })
      expectOk(r)
      const keys = (await readdir(clone.file('etc/ssh'))).filter((f) => f.startsWith('ssh_host_')).sort()
      expect(keys).to.include.members(['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'ssh_host_ecdsa_key'])
      expect(await readFile(clone.file('etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')).not.to.equal(goldenKey)
      const id = (await readFile(clone.file('etc/machine-id'), 'utf8')).trim()
      expect(id).to.match(/^[0-9a-f]{32}$/)
      expect(id).not.to.equal(goldenId)
      expect(await readlink(clone.file('var/lib/dbus/machine-id'))).to.equal('/etc/machine-id')
      expect(await exists(clone.file('var/lib/systemd/random-seed'))).to.equal(false)

      // An image captured without a machine-id gets one too; and MACHINE_ID=firstboot leaves it to systemd.
      await rm(clone.file('etc/machine-id'))
      expectOk(await clone.script('regen_identity', {}, { esp: false }))
      const again = (await readFile(clone.file('etc/machine-id'), 'utf8')).trim()
      expect(again).to.match(/^[0-9a-f]{32}$/)
      expect(again).not.to.equal(id)
      expectOk(await clone.script('regen_identity', { MACHINE_ID: 'firstboot' }, { esp: false }))
      expect(await readFile(clone.file('etc/machine-id'), 'utf8')).to.equal('uninitialized\n')
    })

    describe('fix_swap_uuids', function () {
      const goldenSwap = 'a1b2c3d4-0000-4000-8000-00000000beef'

      it('gives the partition the fstab trailer names the swap UUID fstab asks for, and points resume= at it', async function () {
        await writeFile(clone.file('etc/fstab'), [
          `UUID=${clone.uuid.root}\t/\text4\terrors=remount-ro\t0\t1`,
          `UUID=${goldenSwap}\tnone\tswap\tsw\t0\t0\t# ${clone.dev.swap}`,
          '',
        ].join('\n'))
        await mkdir(clone.file('etc/default'), { recursive: true })
        await writeFile(clone.file('etc/default/grub'), `GRUB_CMDLINE_LINUX_DEFAULT="quiet resume=UUID=ffffffff-0000-4000-8000-000000000000"\nGRUB_CMDLINE_LINUX=""\n`)
        await writeFile(clone.file('etc/initramfs-tools/conf.d/resume'), 'RESUME=/dev/sda3\n')
        const r = await clone.script('fix_swap_uuids', { INSTALL_DISK: clone.disk.dev }, { esp: false })
        expectOk(r)
        expect(await clone.blkid(clone.dev.swap, 'UUID')).to.equal(goldenSwap)
        expect(await clone.blkid(clone.dev.swap, 'LABEL')).to.equal('swap')
        expect(await readFile(clone.file('etc/default/grub'), 'utf8')).to.include(`GRUB_CMDLINE_LINUX_DEFAULT="quiet resume=UUID=${goldenSwap}"`)
        expect(await readFile(clone.file('etc/initramfs-tools/conf.d/resume'), 'utf8')).to.equal(`RESUME=UUID=${goldenSwap}\n`)

        // Run again: all in place, nothing changes.
        const again = await clone.script('fix_swap_uuids', { INSTALL_DISK: clone.disk.dev }, { esp: false })
        expectOk(again)
        expect(again.stdout).to.include(`swap UUID=${goldenSwap} is ${clone.dev.swap}`)
        expect(again.stdout).not.to.include('->')
      })

      it('finds an unclaimed swap partition without a trailer, and removes resume= when there is no swap', async function () {
        const other = 'a1b2c3d4-0000-4000-8000-00000000cafe'
        await writeFile(clone.file('etc/fstab'), `UUID=${clone.uuid.root} / ext4 defaults 0 1\nUUID=${other} none swap sw 0 0\n`)
        expectOk(await clone.script('fix_swap_uuids', { INSTALL_DISK: clone.disk.dev }, { esp: false }))
        expect(await clone.blkid(clone.dev.swap, 'UUID')).to.equal(other)

        await writeFile(clone.file('etc/fstab'), `UUID=${clone.uuid.root} / ext4 defaults 0 1\n`)
        await writeFile(clone.file('etc/default/grub'), `GRUB_CMDLINE_LINUX_DEFAULT="resume=UUID=ffffffff-0000-4000-8000-000000000000 quiet"\n`)
        await writeFile(clone.file('etc/initramfs-tools/conf.d/resume'), 'RESUME=UUID=ffffffff-0000-4000-8000-000000000000\n')
        const r = await clone.script('fix_swap_uuids', { INSTALL_DISK: clone.disk.dev }, { esp: false })
        expectOk(r)
        expect(r.stdout).to.include('no swap in /etc/fstab')
        expect(await readFile(clone.file('etc/default/grub'), 'utf8')).to.equal('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')
        expect(await readFile(clone.file('etc/initramfs-tools/conf.d/resume'), 'utf8')).to.equal('RESUME=none\n')
      })

      after(async function () {
        if (clone === undefined) return
        await must('mkswap', ['-L', 'swap', '-U', clone.uuid.swap, clone.dev.swap])
        await writeFile(clone.file('etc/fstab'), [
          `UUID=${clone.uuid.root}\t/\text4\terrors=remount-ro\t0\t1`,
          `UUID=${clone.uuid.esp}\t/boot/efi\tvfat\tumask=0077\t0\t1`,
          `UUID=${clone.uuid.swap}\tnone\tswap\tsw\t0\t0\t# ${clone.dev.swap}`,
          '',
        ].join('\n'))
      })
    })

    it('makeinitrd builds /boot/initrd.img-<version> with update-initramfs for a kernel with modules and skips the rest', async function () {
      const version = '6.1.0-xcattest-amd64'
      await mkdir(clone.file(`lib/modules/${version}/kernel`), { recursive: true })
      for (const f of ['modules.order', 'modules.builtin']) await writeFile(clone.file(`lib/modules/${version}/${f}`), '')
      await writeFile(clone.file(`boot/vmlinuz-${version}`), 'not a real kernel\n')
      await writeFile(clone.file(`boot/config-${version}`), 'CONFIG_BLK_DEV_INITRD=y\nCONFIG_RD_GZIP=y\n')
      await writeFile(clone.file('boot/vmlinuz-9.9.9-gone'), 'a kernel whose modules were removed\n')
      await mkdir(clone.file('lib/modules/5.10.0-leftover/updates'), { recursive: true })
      try {
        const r = await clone.script('makeinitrd', {}, { esp: false })
        expectOk(r)
        expect(r.stdout).to.include(`update-initramfs -c -k ${version}`)
        expect(r.stdout).to.match(/^makeinitrd: building in \/run\/makeinitrd\.\w+ \(tmpfs\)$/m)
        expect((await readdir(clone.file('var/tmp'))).filter((f) => f.startsWith('mkinitramfs'))).to.deep.equal([])
        expect(r.stdout).to.include('9.9.9-gone: a kernel image without modules')
        expect(r.stdout).to.include('5.10.0-leftover: /lib/modules/5.10.0-leftover holds no kernel')
        const initrd = clone.file(`boot/initrd.img-${version}`)
        expect((await stat(initrd)).size).to.be.greaterThan(100_000)
        const listing = await clone.run(['lsinitramfs', `/boot/initrd.img-${version}`], {}, { esp: false })
        expectOk(listing)
        expect(listing.stdout).to.match(/^usr\/lib\/modules\/6\.1\.0-xcattest-amd64|^lib\/modules\/6\.1\.0-xcattest-amd64/m)
        // An existing image is updated in place.
        const first = (await stat(initrd)).mtimeMs
        const again = await clone.script('makeinitrd', {}, { esp: false })
        expectOk(again)
        expect(again.stdout).to.include(`update-initramfs -u -k ${version}`)
        expect((await stat(initrd)).mtimeMs).to.be.greaterThan(first)
      } finally {
        for (const p of [`lib/modules/${version}`, 'lib/modules/5.10.0-leftover', `boot/vmlinuz-${version}`, `boot/config-${version}`, `boot/initrd.img-${version}`, 'boot/vmlinuz-9.9.9-gone', 'var/lib/initramfs-tools']) await rm(clone.file(p), { recursive: true, force: true })
      }
    })

    describe('efibootloader', function () {
      it('BIOS: runs grub-install on the loop disk (boot code in the MBR, core.img in the BIOS boot partition) and makes root= and resume= name the clone\'s devices', async function () {
        await mkdir(clone.file('etc/default'), { recursive: true })
        await writeFile(clone.file('etc/default/grub'), [
          'GRUB_DEFAULT=0',
          'GRUB_TIMEOUT=1',
          'GRUB_CMDLINE_LINUX_DEFAULT="quiet resume=UUID=ffffffff-0000-4000-8000-000000000000"',
          'GRUB_CMDLINE_LINUX="root=/dev/sda2 console=ttyS0,115200"',
          '',
        ].join('\n'))
        await mkdir(clone.file('boot/loader/entries'), { recursive: true })
        await writeFile(clone.file('boot/loader/entries/golden-6.1.0.conf'), `title Linux\nlinux /vmlinuz-6.1.0\noptions root=UUID=eeeeeeee-0000-4000-8000-000000000000 ro resume=/dev/mapper/golden-swap rd.lvm.lv=golden/root\n`)
        await mkdir(clone.file('boot/grub2'), { recursive: true })
        expectOk(await clone.run(['grub-editenv', '/boot/grub2/grubenv', 'set', `kernelopts=root=UUID=${clone.uuid.root} ro resume=/dev/sdz9 quiet`], {}, { esp: false }))
        try {
          const r = await clone.script('efibootloader', { FIRMWARE: 'bios', INSTALL_DISK: clone.disk.dev }, { esp: false })
          expectOk(r)
          expect(r.stdout).to.include(`grub-install --target=i386-pc ${clone.disk.dev}`)
          const mbr = (await must('dd', [`if=${clone.disk.dev}`, 'bs=440', 'count=1', 'status=none'])).toString()
          expect(mbr).to.include('GRUB')
          const core = await readFile(clone.dev.bios)
          expect(core.subarray(0, 512).some((b) => b !== 0), 'core.img in the BIOS boot partition').to.equal(true)
          expect(await exists(clone.file('boot/grub/i386-pc/core.img'))).to.equal(true)
          const cfg = await readFile(clone.file('boot/grub/grub.cfg'), 'utf8')
          expect(cfg).to.include(`--fs-uuid --set=root ${clone.uuid.root}`)
          const grubDefault = await readFile(clone.file('etc/default/grub'), 'utf8')
          expect(grubDefault).to.include(`GRUB_CMDLINE_LINUX="root=UUID=${clone.uuid.root} console=ttyS0,115200"`)
          expect(grubDefault).to.include(`GRUB_CMDLINE_LINUX_DEFAULT="quiet resume=UUID=${clone.uuid.swap}"`)
          expect(await readFile(clone.file('boot/loader/entries/golden-6.1.0.conf'), 'utf8')).to.include(`options root=UUID=${clone.uuid.root} ro resume=UUID=${clone.uuid.swap} rd.lvm.lv=golden/root\n`)
          const env = await clone.run(['grub-editenv', '/boot/grub2/grubenv', 'list'], {}, { esp: false })
          expect(env.stdout).to.include(`kernelopts=root=UUID=${clone.uuid.root} ro resume=UUID=${clone.uuid.swap} quiet`)
        } finally {
          for (const p of ['boot/loader', 'boot/grub2']) await rm(clone.file(p), { recursive: true, force: true })
        }
      })

      it('UEFI without EFI variables: installs grub on an empty ESP, puts the fallback loader EFI/BOOT/BOOTX64.EFI in place and warns', async function () {
        await clone.espClear()
        const r = await clone.script('efibootloader', { FIRMWARE: 'uefi', INSTALL_DISK: clone.disk.dev })
        expectOk(r)
        expect(r.stdout).to.match(/WARNING: efibootmgr cannot use the EFI variables/)
        expect(r.stdout).to.include('the clone boots through the fallback loader EFI/BOOT/BOOTX64.EFI only')
        const files = await clone.espList()
        expect(files).to.include.members(['/EFI/debian/grubx64.efi', '/EFI/BOOT/BOOTX64.EFI'])
        const grub = await clone.espRead('/EFI/debian/grubx64.efi')
        expect(grub.subarray(0, 2).toString()).to.equal('MZ')
        expect(sha256(await clone.espRead('/EFI/BOOT/BOOTX64.EFI'))).to.equal(sha256(grub))
        expect(await readFile(clone.file('boot/grub/grub.cfg'), 'utf8')).to.include(clone.uuid.root)
      })

      it('UEFI: a grub.cfg stub on the ESP that searches for a file system the clone does not have is pointed at the clone\'s', async function () {
        await clone.espWrite('/EFI/debian/grub.cfg', "search.fs_uuid 0badc0de-0000-4000-8000-000000000000 root hd0,gpt2\nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n")
        expectOk(await clone.script('efibootloader', { FIRMWARE: 'uefi', INSTALL_DISK: clone.disk.dev }))
        expect((await clone.espRead('/EFI/debian/grub.cfg')).toString()).to.equal(`search.fs_uuid ${clone.uuid.root} root hd0,gpt2\nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n`)
      })

      it('UEFI: fails with a clear message when there is no ESP', async function () {
        const fstab = await readFile(clone.file('etc/fstab'), 'utf8')
        await writeFile(clone.file('etc/fstab'), fstab.split('\n').filter((l) => !l.includes('/boot/efi')).join('\n'))
        try {
          const r = await clone.script('efibootloader', { FIRMWARE: 'uefi', INSTALL_DISK: clone.disk.dev }, { esp: false })
          expect(r.code).to.equal(1)
          expect(r.stderr).to.include('no EFI system partition')
        } finally {
          await writeFile(clone.file('etc/fstab'), fstab)
        }
      })

      it('isolated unit check with an efibootmgr recorder in PATH: --disk/--part of the ESP, the shim loader, stale entries removed, BootOrder', async function () {
        await clone.espWrite('/EFI/debian/shimx64.efi', 'MZ placeholder shim\n')
        await clone.espWrite('/EFI/debian/mmx64.efi', 'MZ placeholder MokManager\n')
        const espGuid = (await must('blkid', ['-p', '-o', 'value', '-s', 'PART_ENTRY_UUID', clone.dev.esp])).trim()
        const gone = 'deadbeef-dead-4eef-8eef-deadbeefdead'
        await mkdir(clone.file('tmp/recorder'), { recursive: true })
        await copyFile(join(FIXTURES, 'efibootmgr-recorder'), clone.file('tmp/recorder/efibootmgr'))
        await chmod(clone.file('tmp/recorder/efibootmgr'), 0o755)
        await writeFile(clone.file('tmp/recorder/state'), [
          'BootCurrent: 0000',
          'Timeout: 1 seconds',
          'BootOrder: 0001,0000,0002,0004,0005,0006',
          'Boot0000* UEFI PXEv4 (MAC:525400123456)\tPciRoot(0x0)/Pci(0x3,0x0)/MAC(525400123456,1)/IPv4(0.0.0.0,0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)',
          `Boot0001* Debian GNU/Linux\tHD(2,GPT,${espGuid},0x800,0x1f800)/File(\\EFI\\debian\\shimx64.efi)`,
          `Boot0002* syscloneLinux\tHD(1,GPT,${gone},0x800,0x1f800)/File(\\EFI\\redhat\\grubx64.efi)`,
          `Boot0004* debian\tHD(1,GPT,${gone},0x800,0x1f800)/File(\\EFI\\debian\\grubx64.efi)`,
          `Boot0005* Windows Boot Manager\tHD(1,GPT,${gone},0x800,0x1f800)/File(\\EFI\\Microsoft\\Boot\\bootmgfw.efi)`,
          'Boot0006  UEFI Shell\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)',
          '',
        ].join('\n'))
        await writeFile(clone.file('tmp/recorder/log'), '')
        const env = { PATH: `/tmp/recorder:${CLONE_PATH}`, EFIBOOTMGR_STATE: '/tmp/recorder/state', EFIBOOTMGR_LOG: '/tmp/recorder/log', FIRMWARE: 'uefi', INSTALL_DISK: clone.disk.dev }
        try {
          const r = await clone.script('efibootloader', env)
          expectOk(r)
          const calls = (await readFile(clone.file('tmp/recorder/log'), 'utf8')).split('\n').filter((l) => l !== '')
          expect(calls.filter((c) => c.includes('[-B]')).sort()).to.deep.equal(['[-q][-b][0001][-B]', '[-q][-b][0002][-B]', '[-q][-b][0004][-B]'])
          expect(calls).to.include(`[-c][-d][${clone.disk.dev}][-p][2][-l][\\EFI\\debian\\shimx64.efi][-L][Debian GNU/Linux]`)
          expect(calls.filter((c) => c.includes('[-o]'))).to.deep.equal(['[-q][-o][0001,0000,0005,0006]'])
          const state = await readFile(clone.file('tmp/recorder/state'), 'utf8')
          expect(state).to.include('BootOrder: 0001,0000,0005,0006')
          expect(state).to.include(`Boot0001* Debian GNU/Linux\tHD(2,GPT,${espGuid},0x800,0x1f800)/File(\\EFI\\debian\\shimx64.efi)`)
          // The fallback path boots shim, which finds grub and MokManager beside it.
          expect((await clone.espRead('/EFI/BOOT/BOOTX64.EFI')).toString()).to.equal('MZ placeholder shim\n')
          expect(sha256(await clone.espRead('/EFI/BOOT/grubx64.efi'))).to.equal(sha256(await clone.espRead('/EFI/debian/grubx64.efi')))
          expect((await clone.espRead('/EFI/BOOT/mmx64.efi')).toString()).to.equal('MZ placeholder MokManager\n')

          // netfirst keeps the PXE entry ahead of the new one.
          await writeFile(clone.file('tmp/recorder/log'), '')
          expectOk(await clone.script('efibootloader', { ...env, EFI_BOOTORDER: 'netfirst', EFI_LABEL: 'node image' }))
          const again = (await readFile(clone.file('tmp/recorder/log'), 'utf8')).split('\n')
          expect(again).to.include(`[-c][-d][${clone.disk.dev}][-p][2][-l][\\EFI\\debian\\shimx64.efi][-L][node image]`)
          // The entry of the first run (same ESP, same loader, another label) is a duplicate.
          expect(again.filter((c) => c.includes('[-B]'))).to.deep.equal(['[-q][-b][0001][-B]'])
          expect(again.filter((c) => c.includes('[-o]'))).to.deep.equal(['[-q][-o][0000,0001,0005,0006]'])
        } finally {
          await rm(clone.file('tmp/recorder'), { recursive: true, force: true })
        }
      })

      it('isolated unit check: --partition-of derives the disk and partition number from device names', async function () {
        const cases: [string, string][] = [
          ['/dev/sdb3', '/dev/sdb 3'], ['/dev/vda1', '/dev/vda 1'], ['/dev/xvda2', '/dev/xvda 2'], ['/dev/nvme0n1p12', '/dev/nvme0n1 12'],
          ['/dev/mmcblk0p1', '/dev/mmcblk0 1'], ['/dev/loop7p2', '/dev/loop7 2'], ['/dev/md126p1', '/dev/md126 1'], [clone.dev.esp, `${clone.disk.dev} 2`],
        ]
        for (const [dev, expected] of cases) {
          if (dev !== clone.dev.esp && (await exists(dev))) continue
          const p = await clone.run(['/bin/sh', '/tmp/post-install/efibootloader', '--partition-of', dev], {}, { esp: false })
          expect(p.stdout.trim(), dev).to.equal(expected)
        }
        const whole = await clone.run(['/bin/sh', '/tmp/post-install/efibootloader', '--partition-of', '/dev/nvme9n9'], {}, { esp: false })
        expect(whole.code).to.equal(1)
        expect(whole.stderr).to.include('not a partition')
      })
    })

    describe('runxcatpost', function () {
      for (const tool of ['nc', 'bash', 'perl']) {
        it(`writes /etc/xcat/xcatinstallinfo and tells the install monitor "next" (with ${tool})`, async function () {
          const monitor = await installMonitor()
          try {
            await rm(clone.file('etc/xcat'), { recursive: true, force: true })
            const r = await clone.script('runxcatpost', { MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), XCAT_FLAG_TOOL: tool }, { esp: false })
            expectOk(r)
            expect(r.stdout).to.include('/opt/xcat/xcatdsklspost is not in the image')
            expect(r.stdout).to.include(`told 127.0.0.1:${monitor.port} "next" (with ${tool})`)
            expect(monitor.lines).to.deep.equal(['next'])
            expect(await readFile(clone.file('etc/xcat/xcatinstallinfo'), 'utf8')).to.equal('sysclone\n')
          } finally {
            await monitor.close()
          }
        })
      }

      it('runs the postscripts part of xcatdsklspost in the chroot and keeps the postbootscripts for the first boot', async function () {
        const monitor = await installMonitor()
        await mkdir(clone.file('opt/xcat'), { recursive: true })
        await copyFile(join(FIXTURES, 'xcatdsklspost'), clone.file('opt/xcat/xcatdsklspost'))
        await chmod(clone.file('opt/xcat/xcatdsklspost'), 0o755)
        await writeFile(clone.file('opt/xcat/xcatinfo'), 'XCATSERVER=10.99.99.99\n')
        try {
          // MASTER comes from the node's mypostscript, as xCAT's runxcatpost takes it.
          const r = await clone.script('runxcatpost', { XCATIPORT: String(monitor.port) }, { esp: false })
          expectOk(r)
          expect(await readFile(clone.file('tmp/xcatdsklspost.log'), 'utf8')).to.equal('xcatdsklspost: deployment=1\n')
          expect(await exists(clone.file('tmp/xcatdsklspost-ran-too-far'))).to.equal(false)
          expect(await readFile(clone.file('tmp/postscript-ran'), 'utf8')).to.equal('postscript ran for target1\n')
          expect(await exists(clone.file('tmp/postbootscript-ran'))).to.equal(false)
          const post = await readFile(clone.file('xcatpost/mypostscript.post'), 'utf8')
          expect(post).to.include('run_ps postbootscript mark-postbootscript')
          expect(post).not.to.include('mark-postscript')
          expect(await readFile(clone.file('xcatpost/mypostscript'), 'utf8')).not.to.include('mark-postbootscript')
          expect(await readFile(clone.file('opt/xcat/xcatinfo'), 'utf8')).to.equal('XCATSERVER=127.0.0.1\n')
          expect(await readlink(clone.file('etc/systemd/system/multi-user.target.wants/xcatpostinit1.service'))).to.equal('../xcatpostinit1.service')
          expect(await exists(clone.file('opt/xcat/xcatpostinit1'))).to.equal(true)
          const installpost = await readFile(clone.file('opt/xcat/xcatinstallpost'), 'utf8')
          expect(installpost).to.include("RUNBOOTSCRIPTS=$(grep 'RUNBOOTSCRIPTS=' /xcatpost/mypostscript.post | cut -d= -f2 | tr -d \"'\\\"\" | tr A-Z a-z)")
          expect(installpost).to.include('systemctl disable xcatpostinit1.service')
          expect((await runProcess('bash', ['-n', clone.file('opt/xcat/xcatinstallpost')])).code).to.equal(0)
          expect(monitor.lines).to.deep.equal(['next'])
        } finally {
          await monitor.close()
          for (const p of ['opt/xcat', 'xcatpost', 'etc/systemd/system/xcatpostinit1.service', 'etc/systemd/system/multi-user.target.wants/xcatpostinit1.service', 'tmp/xcatdsklspost.log', 'tmp/postscript-ran', 'tmp/xcatsysclonepost', 'tmp/xcatenv']) await rm(clone.file(p), { recursive: true, force: true })
        }
      })

      it('does not tell the install monitor with NODESTATUS=n or when the installer reports next itself, and sends any flag with --flag', async function () {
        const monitor = await installMonitor()
        try {
          const quiet = await clone.script('runxcatpost', { MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), NODESTATUS: 'n' }, { esp: false })
          expectOk(quiet)
          expect(quiet.stdout).to.include('NODESTATUS=n: the install monitor is not told')
          const deferred = await clone.script('runxcatpost', { MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), XCAT_SYSCLONE_DEFER_NEXT: '1' }, { esp: false })
          expectOk(deferred)
          expect(deferred.stdout).to.include('the installer reports "next" once the installation is complete')
          const flag = await clone.run(['/bin/sh', '/tmp/post-install/runxcatpost', '--flag', 'installstatus failed'], { XCAT: `127.0.0.1:3001`, XCATIPORT: String(monitor.port) }, { esp: false })
          expectOk(flag)
          expect(monitor.lines).to.deep.equal(['installstatus failed'])
        } finally {
          await monitor.close()
        }
      })

      it('fails with a clear message when the install monitor does not answer', async function () {
        const monitor = await installMonitor()
        await monitor.close()
        const r = await clone.script('runxcatpost', { MASTER: '127.0.0.1', XCATIPORT: String(monitor.port), XCAT_FLAG_RETRIES: '1', XCAT_FLAG_RETRY_DELAY: '0' }, { esp: false })
        expect(r.code).to.equal(1)
        expect(r.stderr).to.include(`the install monitor 127.0.0.1:${monitor.port} did not take "next" (2 attempts`)
      })
    })
  })

  describe('in the chroot of a clone with a real kernel (XCAT_TEST_KERNEL=1)', function () {
    this.timeout(600_000)
    let clone: Clone
    after(async () => {
      if (clone !== undefined) await clone.destroy()
    })
    const hosts = useTestHosts()

    before(async function () {
      if (process.env.XCAT_TEST_KERNEL !== '1' || process.getuid?.() !== 0) this.skip()
      this.timeout(60 * 60_000)
      const tarball = await rootfsTarball({ packages: [...ROOTFS_PACKAGES, ...EXTRA_PACKAGES, 'linux-image-amd64'] })
      clone = await makeClone(await hosts.blankDisk(2048), tarball)
    })

    it('makeinitrd rebuilds the initramfs of the installed kernel, and efibootloader makes a grub.cfg that boots it from the clone\'s root', async function () {
      const versions = (await readdir(clone.file('lib/modules'))).filter((v) => /^\d/.test(v))
      expect(versions).to.have.length(1)
      const version = versions[0]!
      const initrd = clone.file(`boot/initrd.img-${version}`)
      await rm(initrd, { force: true })
      const r = await clone.script('makeinitrd', {}, { esp: false, timeoutMs: 300_000 })
      expectOk(r)
      expect((await stat(initrd)).size).to.be.greaterThan(1_000_000)
      const listing = await clone.run(['lsinitramfs', `/boot/initrd.img-${version}`], {}, { esp: false })
      expect(listing.stdout).to.match(/kernel\/drivers\/(nvme|scsi|virtio|block)/)

      const b = await clone.script('efibootloader', { FIRMWARE: 'uefi', INSTALL_DISK: clone.disk.dev }, { timeoutMs: 300_000 })
      expectOk(b)
      const cfg = await readFile(clone.file('boot/grub/grub.cfg'), 'utf8')
      const escaped = version.replaceAll('.', '\\.')
      expect(cfg).to.match(new RegExp(`^\\s*linux\\s+/boot/vmlinuz-${escaped} root=UUID=${clone.uuid.root} ro`, 'm'))
      expect(cfg).to.match(new RegExp(`^\\s*initrd\\s+/boot/initrd\\.img-${escaped}$`, 'm'))
      expect(cfg).not.to.include(`root=${clone.dev.root}`)
      expect(await clone.espList()).to.include('/EFI/BOOT/BOOTX64.EFI')
    })
  })
})
