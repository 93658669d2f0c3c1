import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { HOSTS_DIR, runProcess, useTestHosts, type TestHost } from './helpers/test-hosts.js'

interface FindmntJson {
  filesystems: { target: string; source: string; fstype: string }[]
}

interface LsblkJson {
  blockdevices: { name: string; type: string; children?: { name: string; mountpoints: (string | null)[] }[] }[]
}

async function netnsNames(): Promise<string[]> {
  const out = (await runProcess('ip', ['-j', 'netns', 'list'])).stdout.trim()
  return out === '' ? [] : (JSON.parse(out) as { name: string }[]).map((n) => n.name)
}

describe('e2e test hosts', function () {
  const hosts = useTestHosts()
  let golden: TestHost

  before(async function () {
    golden = await hosts.create({ name: 'golden1', disk: { sizeMiB: 1024, table: 'gpt', esp: true, swapMiB: 64 } })
  })

  it('has its own hostname', async function () {
    const r = await golden.ssh(['hostname'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout.trim()).to.equal('golden1')
  })

  it('has its loop root partition mounted as /', async function () {
    const r = await golden.ssh(['findmnt', '-J', '/'])
    expect(r.code, r.stderr).to.equal(0)
    const fs = (JSON.parse(r.stdout) as FindmntJson).filesystems[0]
    expect(fs?.source).to.equal(golden.disk?.partition('root')?.dev)
    expect(fs?.fstype).to.equal('ext4')
  })

  it('has the ESP mounted at /boot/efi with boot loader files', async function () {
    const r = await golden.ssh(['findmnt', '-J', '/boot/efi'])
    expect(r.code, r.stderr).to.equal(0)
    const fs = (JSON.parse(r.stdout) as FindmntJson).filesystems[0]
    expect(fs?.source).to.equal(golden.disk?.partition('esp')?.dev)
    expect(fs?.fstype).to.equal('fuse.vfat')
    const ls = await golden.ssh(['find', '/boot/efi', '-type', 'f'])
    expect(ls.stdout.trim().split('\n').sort()).to.deep.equal(['/boot/efi/EFI/BOOT/BOOTX64.EFI', '/boot/efi/EFI/debian/grub.cfg', '/boot/efi/EFI/debian/grubx64.efi'])
  })

  it('sees its partitions with blkid and lsblk', async function () {
    const esp = golden.disk!.partition('esp')!
    const swap = golden.disk!.partition('swap')!
    const blkid = await golden.ssh(['blkid', '-o', 'value', '-s', 'TYPE', esp.dev, swap.dev])
    expect(blkid.code, blkid.stderr).to.equal(0)
    expect(blkid.stdout.trim().split('\n')).to.deep.equal(['vfat', 'swap'])
    const lsblk = await golden.ssh(['lsblk', '-J', '-o', 'NAME,TYPE,MOUNTPOINTS', golden.disk!.dev])
    expect(lsblk.code, lsblk.stderr).to.equal(0)
    const disk = (JSON.parse(lsblk.stdout) as LsblkJson).blockdevices[0]
    expect(disk?.type).to.equal('loop')
    expect(disk?.children?.map((c) => c.mountpoints[0])).to.deep.equal(['/boot/efi', '/', null])
  })

  it('has an fstab naming its file systems by UUID', async function () {
    const r = await golden.ssh(['cat', '/etc/fstab'])
    expect(r.stdout).to.include(`UUID=${golden.disk!.partition('root')!.uuid} / ext4 `)
    expect(r.stdout).to.include(`UUID=${golden.disk!.partition('esp')!.uuid} /boot/efi vfat umask=0077 `)
    expect(r.stdout).to.include(`UUID=${golden.disk!.partition('swap')!.uuid} none swap `)
  })

  it('serves rsync over ssh', async function () {
    const version = await golden.ssh(['rsync', '--version'])
    expect(version.code, version.stderr).to.equal(0)
    expect(version.stdout).to.match(/^rsync +version/)
    const dir = mkdtempSync(join(HOSTS_DIR, 'xstt-'))
    try {
      const r = await runProcess('rsync', ['-a', '-e', golden.rsyncShell(), `${golden.sshTarget}:/etc/hostname`, `${golden.sshTarget}:/boot/efi/EFI`, `${dir}/`])
      expect(r.code, r.stderr).to.equal(0)
      expect(readFileSync(join(dir, 'hostname'), 'utf8')).to.equal('golden1\n')
      expect(readFileSync(join(dir, 'EFI/debian/grubx64.efi'), 'utf8')).to.equal('placeholder grubx64.efi of golden1\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs commands without ssh through exec', async function () {
    const r = await golden.exec(['cat', '/etc/hostname'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal('golden1\n')
  })

  it('runs more hosts in parallel: msdos without rsync, and one without sshd', async function () {
    const [second, silent] = await Promise.all([
      hosts.create({ name: 'golden2', disk: { sizeMiB: 768, table: 'msdos' }, rsync: false }),
      hosts.create({ name: 'nossh', disk: false, rootfs: 'tmpfs', sshd: false }),
    ])
    const [a, b] = await Promise.all([second.ssh(['hostname']), golden.ssh(['hostname'])])
    expect([a.stdout.trim(), b.stdout.trim()]).to.deep.equal(['golden2', 'golden1'])
    expect(second.ip).to.not.equal(golden.ip)
    const table = await second.ssh(['sfdisk', '--json', second.disk!.dev])
    expect((JSON.parse(table.stdout) as { partitiontable: { label: string } }).partitiontable.label).to.equal('dos')
    const root = await second.ssh(['findmnt', '-n', '-o', 'SOURCE', '/'])
    expect(root.stdout.trim()).to.equal(second.disk!.partition('root')!.dev)
    const rsync = await second.ssh(['rsync', '--version'])
    expect(rsync.code).to.equal(127)
    const refused = await silent.ssh(['true'])
    expect(refused.code).to.equal(255)
    expect(refused.stderr).to.match(/Connection refused/)
    const inside = await silent.exec(['findmnt', '-n', '-o', 'FSTYPE', '/'])
    expect(inside.stdout.trim()).to.equal('tmpfs')
  })

  it('stops sshd and cuts the network midway, and brings them back', async function () {
    const host = await hosts.create({ name: 'flaky', disk: { sizeMiB: 512, table: 'gpt', esp: false } })
    const session = host.ssh(['sleep', '987'])
    for (let i = 0; (await host.exec(['pgrep', '-fx', 'sleep 987'])).code !== 0; i++) {
      expect(i).to.be.below(100)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await host.stopSshd()
    expect((await session).code).to.equal(255)
    expect((await host.ssh(['true'])).stderr).to.match(/Connection refused/)
    await host.startSshd()
    expect((await host.ssh(['true'])).code).to.equal(0)
    await host.cutNetwork()
    const cut = await runProcess('ssh', [...host.sshOptions(), '-o', 'ConnectTimeout=2', host.sshTarget, 'true'])
    expect(cut.code).to.equal(255)
    expect(cut.stderr).to.match(/timed out/)
    await host.restoreNetwork()
    expect((await host.ssh(['true'])).code).to.equal(0)
  })

  it('gives target nodes a blank disk and a root on tmpfs', async function () {
    const node = await hosts.create({ name: 'node1', disk: { sizeMiB: 300, table: 'none' }, rootfs: 'tmpfs' })
    const root = await node.ssh(['findmnt', '-n', '-o', 'FSTYPE', '/'])
    expect(root.stdout.trim()).to.equal('tmpfs')
    const size = await node.ssh(['blockdev', '--getsize64', node.disk!.dev])
    expect(size.stdout.trim()).to.equal(String(300 * 1024 * 1024))
    expect((await node.ssh(['blkid', '-p', node.disk!.dev])).code).to.equal(2)
    const blank = await hosts.blankDisk(128)
    expect((await runProcess('blockdev', ['--getsize64', blank.dev])).stdout.trim()).to.equal(String(128 * 1024 * 1024))
    await blank.destroy()
    expect(existsSync(blank.backingFile)).to.equal(false)
  })

  it('leaves nothing behind once destroyed', async function () {
    const host = await hosts.create({ name: 'gone', disk: { sizeMiB: 512, table: 'gpt', swapMiB: 32 } })
    const { dev, backingFile } = host.disk!
    expect(await netnsNames()).to.include(host.netns)
    await host.destroy()
    expect(await netnsNames()).to.not.include(host.netns)
    expect((await runProcess('ip', ['link', 'show', host.veth])).code).to.not.equal(0)
    const loops = await runProcess('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'])
    expect(loops.stdout).to.not.include(backingFile)
    const reattached = (await runProcess('losetup', ['--list', '--noheadings', dev])).stdout.trim() !== ''
    if (!reattached) expect(existsSync(`${dev}p1`)).to.equal(false)
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).to.not.include(host.dir)
    expect(existsSync(backingFile)).to.equal(false)
    expect(existsSync(host.dir)).to.equal(false)
  })
})
