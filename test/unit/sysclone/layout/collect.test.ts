import { expect } from 'chai'
import { collectLayout } from '../../../../lib/sysclone/layout/collect.js'
import type { FstabEntry, Layout } from '../../../../lib/sysclone/layout/model.js'
import { ReplayProbe } from './replay-probe.js'

class PatchedProbe extends ReplayProbe {
  constructor(
    name: string,
    private readonly patches: Readonly<Record<string, { stdout: string; code: number }>>,
    private readonly extraFiles: Readonly<Record<string, string>> = {},
  ) {
    super(ReplayProbe.of(name).dir)
  }

  override async run(argv: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    const patch = this.patches[argv.join(' ')]
    if (patch) return { ...patch, stderr: patch.code ? 'failed' : '' }
    return super.run(argv)
  }

  override async readFile(path: string): Promise<string | undefined> {
    return this.extraFiles[path] ?? super.readFile(path)
  }
}

async function collect(name: string): Promise<{ layout: Layout; probe: ReplayProbe }> {
  const probe = ReplayProbe.of(name)
  return { layout: await collectLayout(probe), probe }
}

function entry(layout: Layout, mp: string): FstabEntry {
  const found = layout.fstab.find((e) => e.mp === mp)
  expect(found, mp).to.not.equal(undefined)
  return found!
}

describe('sysclone layout collection', () => {
  it('reads a GPT disk with an ESP mounted through FUSE, a root by UUID and swap by a /dev/disk/by-uuid name', async () => {
    const { layout } = await collect('gpt')
    expect(layout.firmware).to.equal('uefi')
    expect(layout.devstyle).to.equal('udev')
    expect(layout.disks).to.have.length(1)
    const [disk] = layout.disks
    expect(disk).to.deep.include({ dev: '/dev/loop3', labelType: 'gpt', sizeBytes: 536870912, sectorSize: 512, diskId: '5c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5' })
    expect(disk!.partitions).to.deep.equal([
      {
        num: 1, dev: '/dev/loop3p1', startSector: 2048, sizeSectors: 204800, sizeMiB: 100, grow: false, pType: 'primary',
        typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', name: 'EFI System Partition', partUuid: '7e34a24b-2a2c-4da7-9a34-501f886bf376', flags: ['boot', 'esp'],
      },
      {
        num: 2, dev: '/dev/loop3p2', startSector: 206848, sizeSectors: 262144, sizeMiB: 128, grow: false, pType: 'primary',
        typeGuid: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f', partUuid: 'f3858529-e08f-4dc7-85e6-90c28762fa65', flags: ['swap'],
      },
      {
        num: 3, dev: '/dev/loop3p3', startSector: 468992, sizeSectors: 579551, sizeMiB: 282, grow: true, pType: 'primary',
        typeGuid: '0fc63daf-8483-4772-8e79-3d69d8477de4', name: 'root', partUuid: '8b2c65f2-e622-4264-b259-d3a8cd59249d', flags: [],
      },
    ])
    expect(layout.raids).to.deep.equal([])
    expect(layout.volumeGroups).to.deep.equal([])
  })

  it('keeps every fstab line in order and resolves UUID=, LABEL= and /dev/disk/by-uuid names', async () => {
    const { layout, probe } = await collect('gpt')
    const fstabLines = probe.read('fstab').split('\n').slice(0, -1)
    expect(layout.fstab.map((e) => e.line)).to.deep.equal(fstabLines.map((_, i) => (i + 1) * 10))
    expect(layout.fstab.filter((e) => e.comment !== undefined).map((e) => e.comment)).to.deep.equal(fstabLines.filter((l) => !l.trim() || l.startsWith('#')))
    expect(layout.fstab[12]).to.deep.equal({ line: 130, comment: '', format: false })
    expect(entry(layout, '/')).to.deep.equal({
      line: 80, realDev: '/dev/loop3p3', mountDev: 'UUID=3b1f6d52-0c4a-4f7e-9a55-1d2a4b6c8e90', mp: '/', fs: 'ext4',
      options: 'errors=remount-ro', dump: '0', pass: '1', format: true, uuid: '3b1f6d52-0c4a-4f7e-9a55-1d2a4b6c8e90', label: 'root',
    })
    expect(entry(layout, '/boot/efi')).to.deep.equal({
      line: 100, realDev: '/dev/loop3p1', mountDev: 'UUID=1234-ABCD', mp: '/boot/efi', fs: 'vfat',
      options: 'umask=0077', dump: '0', pass: '1', mkfsOpts: '-F 32', format: true, uuid: '1234-ABCD', label: 'ESP',
    })
    expect(entry(layout, 'none')).to.deep.include({
      realDev: '/dev/loop3p2', mountDev: '/dev/disk/by-uuid/6a0b7c2e-5d41-4c8f-8f3e-2b9a7d1c4e55', fs: 'swap', format: true, uuid: '6a0b7c2e-5d41-4c8f-8f3e-2b9a7d1c4e55',
    })
    expect(entry(layout, '/proc')).to.deep.equal({ line: 120, mountDev: 'proc', mp: '/proc', fs: 'proc', options: 'defaults', dump: '0', pass: '0', format: true })
    expect(entry(layout, '/scratch')).to.deep.include({ realDev: '/dev/loop7p1', mountDev: 'LABEL=scratch', format: false, label: 'scratch' })
    expect(entry(layout, '/media/cdrom0')).to.deep.include({ realDev: '/dev/sr0', format: false })
    expect(entry(layout, '/media/cdrom0')).to.not.have.property('mountDev')
  })

  it('records only the disks the system uses, not the other disks of the machine', async () => {
    const { layout, probe } = await collect('gpt')
    expect(probe.read('lsblk.json')).to.include('"loop7"').and.include('"vda"')
    expect(layout.disks.map((d) => d.dev)).to.deep.equal(['/dev/loop3'])
    expect(probe.calls.filter((c) => c.startsWith('sfdisk'))).to.deep.equal(['sfdisk --json /dev/loop3'])
    expect(probe.calls.some((c) => /^(pvs|vgs|lvs|mdadm) /.test(c))).to.equal(false)
  })

  it('reads an msdos disk with a boot flag, logical partitions, and xfs by LABEL', async () => {
    const { layout, probe } = await collect('msdos')
    expect(layout.firmware).to.equal('bios')
    expect(layout.disks.map((d) => d.dev)).to.deep.equal(['/dev/sda'])
    expect(probe.read('lsblk.json')).to.include('"sdb1"')
    const [disk] = layout.disks
    expect(disk!.diskId).to.equal('0x5eed0001')
    expect(disk!.partitions.map((p) => [p.dev, p.pType, p.mbrId, p.flags, p.sizeMiB, p.grow, p.partUuid])).to.deep.equal([
      ['/dev/sda1', 'primary', '83', ['boot'], 256, false, '5eed0001-01'],
      ['/dev/sda2', 'extended', '5', [], 767, true, '5eed0001-02'],
      ['/dev/sda5', 'logical', '83', [], 300, false, '5eed0001-05'],
      ['/dev/sda6', 'logical', '83', [], 465, true, '5eed0001-06'],
    ])
    expect(entry(layout, '/boot')).to.deep.include({ realDev: '/dev/sda1', format: true, uuid: 'c0ffee00-1111-4222-8333-944445555666', label: 'boot' })
    expect(entry(layout, '/boot')).to.not.have.property('mountDev')
    expect(entry(layout, '/srv')).to.deep.include({ realDev: '/dev/sda6', mountDev: 'LABEL=data', fs: 'xfs', format: true, label: 'data', uuid: '4f3e2d1c-0b9a-4877-a665-544332211000' })
    expect(entry(layout, '/dev/shm')).to.deep.include({ mountDev: 'tmpfs', format: true })
    expect(layout.fstab.find((e) => e.comment?.includes('\t'))?.comment).to.equal('#\ttab\tseparated & "quoted" <comment>')
  })

  it('reads NVMe names, bios_grub, legacy_boot, PARTUUID= and escaped PARTLABEL= entries, and FAT16', async () => {
    const { layout } = await collect('nvme')
    expect(layout.disks.map((d) => d.dev)).to.deep.equal(['/dev/nvme0n1'])
    expect(layout.disks[0]!.partitions.map((p) => [p.num, p.dev, p.flags, p.name, p.sizeMiB, p.grow])).to.deep.equal([
      [1, '/dev/nvme0n1p1', ['bios_grub'], 'BIOS boot', 1, false],
      [2, '/dev/nvme0n1p2', ['boot', 'esp'], 'EFI System Partition', 64, false],
      [3, '/dev/nvme0n1p3', ['legacy_boot'], 'root', 320, false],
      [4, '/dev/nvme0n1p4', [], 'home', 125, true],
    ])
    expect(layout.disks[0]!.partitions[3]!.typeGuid).to.equal('933ac7e1-2eb4-4f13-b844-0e14e2aef915')
    expect(entry(layout, '/')).to.deep.include({ realDev: '/dev/nvme0n1p3', mountDev: 'PARTUUID=33333333-4444-4555-8666-777777777777', format: true, label: 'root' })
    expect(entry(layout, '/boot/efi')).to.deep.include({ realDev: '/dev/nvme0n1p2', mountDev: 'PARTLABEL=EFI\\040System\\040Partition', mkfsOpts: '-F 16', format: true, uuid: '0A1B-2C3D' })
    expect(entry(layout, '/home')).to.deep.include({ realDev: '/dev/nvme0n1p4', format: true })
  })

  it('reads LVM: /dev/mapper and /dev/vg/lv names, swap on dm-N, the last LV filling the VG, and by-id names through readlink', async () => {
    const { layout, probe } = await collect('lvm')
    expect(layout.disks.map((d) => d.dev)).to.deep.equal(['/dev/vda'])
    expect(layout.disks[0]!.partitions.map((p) => p.flags)).to.deep.equal([['bios_grub'], [], ['lvm']])
    expect(layout.volumeGroups).to.deep.equal([
      {
        name: 'rhel',
        extentSizeBytes: 4194304,
        pvs: ['/dev/vda3'],
        lvs: [
          { name: 'root', sizeBytes: 12884901888, grow: false, uuid: 'X7vB3n-Mq1w-Er5t-Yu8i-Op2a-Sd4f-Gh6jKl' },
          { name: 'swap', sizeBytes: 2147483648, grow: false, uuid: 'C9xV1b-Nm3q-We5r-Ty7u-Io9p-As1d-Fg3hJk' },
          { name: 'lv-data', sizeBytes: 5364514816, grow: true, uuid: 'Z4nK8p-Qw2e-Rt6y-Ui9o-Pa1s-Df3g-Hj5kLm' },
        ],
        uuid: 'q8Rz2N-yT4c-Lm7P-wX1v-Bn6k-Fj3d-Gh5sAe',
      },
    ])
    expect(entry(layout, '/')).to.deep.include({ realDev: '/dev/mapper/rhel-root', format: true, uuid: '8f3a2b1c-4d5e-4f60-9a7b-8c9d0e1f2a3b' })
    expect(entry(layout, '/')).to.not.have.property('mountDev')
    expect(entry(layout, '/data')).to.deep.include({ realDev: '/dev/mapper/rhel-lv--data', mountDev: '/dev/rhel/lv-data', format: true, label: 'data' })
    expect(entry(layout, 'none')).to.deep.include({ realDev: '/dev/mapper/rhel-swap', format: true })
    expect(entry(layout, '/backup')).to.deep.include({ realDev: '/dev/vdb1', mountDev: '/dev/disk/by-id/virtio-BACKUP01-part1', format: false, label: 'backup' })
    expect(probe.calls).to.include('readlink -f /dev/disk/by-id/virtio-BACKUP01-part1')
    expect(probe.calls.filter((c) => c.startsWith('sfdisk'))).to.deep.equal(['sfdisk --json /dev/vda'])
  })

  it('reads md RAID1 arrays with a spare, LVM on md, and an ESP mounted with fuseblk', async () => {
    const { layout, probe } = await collect('md')
    expect(layout.disks.map((d) => d.dev)).to.deep.equal(['/dev/sda', '/dev/sdb', '/dev/sdc'])
    expect(probe.read('lsblk.json')).to.include('"mmcblk0p1"')
    expect(layout.raids).to.deep.equal([
      { dev: '/dev/md0', level: 'raid1', devices: ['/dev/sda2', '/dev/sdb2'], spares: ['/dev/sdc1'], metadata: '1.2', name: 'golden:0', uuid: '3f9a8b7c:6d5e4f30:2a1b0c9d:8e7f6a5b' },
      { dev: '/dev/md1', level: 'raid1', devices: ['/dev/sda3', '/dev/sdb3'], spares: [], metadata: '1.2', name: 'golden:1', uuid: '5b6c7d8e:9fa04b1c:2d3e4f5a:6b7c8d9e' },
    ])
    expect(layout.volumeGroups.map((vg) => [vg.name, vg.pvs, vg.lvs.map((lv) => [lv.name, lv.grow])])).to.deep.equal([
      ['data', ['/dev/md1'], [['srv', false], ['swap', false]]],
    ])
    expect(layout.disks[2]!.partitions).to.deep.equal([
      { num: 1, dev: '/dev/sdc1', startSector: 2048, sizeSectors: 8388608, sizeMiB: 4096, grow: true, pType: 'primary', mbrId: 'fd', partUuid: '8badf00d-01', flags: ['raid'] },
    ])
    expect(entry(layout, '/')).to.deep.include({ realDev: '/dev/md0', format: true, label: 'root' })
    expect(entry(layout, '/boot/efi')).to.deep.include({ realDev: '/dev/sda1', mkfsOpts: '-F 32', format: true })
    expect(entry(layout, 'none')).to.deep.include({ realDev: '/dev/mapper/data-swap', mountDev: '/dev/data/swap', format: true })
  })

  it('reads chunk size and layout of striped arrays from /proc/mdstat', async () => {
    const mdstat = [
      'Personalities : [raid10] [raid6] [raid5] [raid4]',
      'md1 : active raid10 sdb3[1] sda3[0]',
      '      3664768 blocks super 1.2 512K chunks 2 far-copies [2/2] [UU]',
      '',
      'md0 : active raid5 sdc1[2](S) sdb2[1] sda2[0]',
      '      4190208 blocks super 1.2 level 5, 64k chunk, algorithm 2 [2/2] [UU]',
      '',
      'unused devices: <none>',
      '',
    ].join('\n')
    const layout = await collectLayout(new PatchedProbe('md', {}, { '/proc/mdstat': mdstat }))
    expect(layout.raids.map((r) => [r.dev, r.chunkKiB, r.layout])).to.deep.equal([
      ['/dev/md0', 64, 'left-symmetric'],
      ['/dev/md1', 512, 'f2'],
    ])
  })

  it('falls back to /proc/swaps when swapon cannot show', async () => {
    const probe = new PatchedProbe('gpt', { 'swapon --show=NAME,TYPE --noheadings --raw': { stdout: '', code: 1 } }, {
      '/proc/swaps': 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/loop3p2                            partition\t131068\t\t0\t\t-2\n',
    })
    expect(entry(await collectLayout(probe), 'none').format).to.equal(true)
  })

  it('fails when an LV in use is unknown to lvs, or an LVM tool fails', async () => {
    const lvs = 'lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_uuid,lv_size,lv_time'
    const empty = '  {\n      "report": [\n          {\n              "lv": [\n              ]\n          }\n      ]\n  }\n'
    await collectLayout(new PatchedProbe('lvm', { [lvs]: { stdout: empty, code: 0 } })).then(
      () => expect.fail('collectLayout succeeded'),
      (err: Error) => expect(err.message).to.match(/^\/dev\/mapper\/rhel-\S+ is an LVM volume that lvs does not list$/),
    )
    await collectLayout(new PatchedProbe('lvm', { [lvs]: { stdout: '', code: 5 } })).then(
      () => expect.fail('collectLayout succeeded'),
      (err: Error) => expect(err.message).to.match(/^lvs .* failed with exit code 5: failed$/),
    )
  })
})
