import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { collectLayout } from '../../../../lib/sysclone/layout/collect.js'
import type { FstabEntry, Layout } from '../../../../lib/sysclone/layout/model.js'
import { parseAutoinstallConf, toAutoinstallConf } from '../../../../lib/sysclone/layout/si-conf.js'
import { FIXTURES, ReplayProbe } from './replay-probe.js'

const CASES = ['gpt', 'msdos', 'nvme', 'lvm', 'md']

function drop<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...value }
  for (const key of keys) delete copy[key]
  return copy
}

function siFstab(entry: FstabEntry): FstabEntry {
  const { uuid, label, ...rest } = entry
  return {
    ...rest,
    ...(uuid !== undefined && entry.mountDev === `UUID=${uuid}` ? { uuid } : {}),
    ...(label !== undefined && entry.mountDev === `LABEL=${label}` ? { label } : {}),
  }
}

function siView(layout: Layout): Layout {
  return {
    ...layout,
    disks: layout.disks.map((disk) => ({
      ...drop(disk, 'diskId'),
      sizeBytes: 0,
      sectorSize: 512,
      partitions: disk.partitions.map((p) => ({ ...drop(p, 'partUuid'), sizeSectors: p.grow ? 0 : p.sizeMiB * 2048, sizeMiB: p.grow ? 0 : p.sizeMiB })),
    })),
    raids: layout.raids.map((raid) => drop(raid, 'metadata', 'name', 'uuid')),
    volumeGroups: layout.volumeGroups.map((vg) => ({
      ...drop(vg, 'uuid'),
      lvs: vg.lvs.map((lv) => ({ ...drop(lv, 'uuid'), sizeBytes: lv.grow ? 0 : lv.sizeBytes })),
    })),
    fstab: layout.fstab.map(siFstab),
  }
}

const sample = (): string => readFileSync(join(FIXTURES, 'si-sample/autoinstallscript.conf'), 'utf8')

describe('sysclone autoinstallscript.conf', () => {
  for (const name of CASES) {
    it(`writes the golden autoinstallscript.conf of the ${name} case`, async () => {
      const probe = ReplayProbe.of(name)
      expect(toAutoinstallConf(await collectLayout(probe))).to.equal(probe.read('autoinstallscript.conf'))
    })

    it(`reads back every field SystemImager's format holds in the ${name} case`, async () => {
      const layout = await collectLayout(ReplayProbe.of(name))
      expect(parseAutoinstallConf(toAutoinstallConf(layout))).to.deep.equal(siView(layout))
    })
  }

  it('escapes attribute values so that fstab comments come back verbatim', () => {
    const comment = '# a & b <c> "d" \'e\'\ttab'
    const layout: Layout = { version: 1, disks: [], raids: [], volumeGroups: [], fstab: [{ line: 10, comment, format: false }], firmware: 'bios', devstyle: 'udev' }
    const xml = toAutoinstallConf(layout)
    expect(xml).to.include('comment="# a &amp; b &lt;c&gt; &quot;d&quot; \'e\'&#9;tab"')
    expect(parseAutoinstallConf(xml).fstab).to.deep.equal([{ line: 10, comment, format: false }])
  })

  it('reads a file written by SystemImager', () => {
    const layout = parseAutoinstallConf(sample())
    expect(layout.firmware).to.equal('uefi')
    expect(layout.devstyle).to.equal('udev')
    expect(layout.disks.map((d) => [d.dev, d.labelType, d.sizeBytes])).to.deep.equal([['/dev/sda', 'gpt', 0], ['/dev/sdb', 'msdos', 0], ['/dev/sdc', 'msdos', 0]])
    expect(layout.disks[0]!.partitions).to.deep.equal([
      { num: 1, dev: '/dev/sda1', startSector: 2048, sizeSectors: 409600, sizeMiB: 200, grow: false, pType: 'primary', typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', flags: ['boot', 'esp'] },
      { num: 2, dev: '/dev/sda2', startSector: 411648, sizeSectors: 1024000, sizeMiB: 500, grow: false, pType: 'primary', typeGuid: '0fc63daf-8483-4772-8e79-3d69d8477de4', flags: [] },
      { num: 3, dev: '/dev/sda3', startSector: 1435648, sizeSectors: 0, sizeMiB: 0, grow: true, pType: 'primary', typeGuid: 'e6d6d379-f507-44c2-a23c-238f2a3df928', flags: ['lvm'] },
    ])
    expect(layout.disks[1]!.partitions.map((p) => [p.dev, p.sizePercent, p.grow, p.mbrId, p.flags])).to.deep.equal([
      ['/dev/sdb1', 0.391, false, '41', ['prep']],
      ['/dev/sdb2', 49.805, false, 'fd', ['raid']],
      ['/dev/sdb3', undefined, true, 'fd', ['raid']],
    ])
    expect(layout.raids).to.deep.equal([
      { dev: '/dev/md0', level: 'raid1', devices: ['/dev/sdb2', '/dev/sdc1'], spares: [] },
      { dev: '/dev/md1', level: 'raid0', devices: ['/dev/sdb3', '/dev/sdc2'], spares: [], chunkKiB: 64 },
    ])
    expect(layout.volumeGroups).to.deep.equal([
      {
        name: 'vg_golden',
        extentSizeBytes: 4194304,
        pvs: ['/dev/sda3'],
        lvs: [
          { name: 'lv_root', sizeBytes: 21474836480, grow: false },
          { name: 'lv_swap', sizeBytes: 4294967296, grow: false },
          { name: 'lv_home', sizeBytes: 0, grow: true },
        ],
      },
      { name: 'vg_data', extentSizeBytes: 33554432, pvs: ['/dev/md1'], lvs: [{ name: 'lv_scratch', sizeBytes: 107374182400, grow: false }] },
    ])
    expect(layout.fstab.map((e) => e.line)).to.deep.equal([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160])
    expect(layout.fstab[0]).to.deep.equal({ line: 10, comment: '', format: false })
    expect(layout.fstab[5]).to.deep.equal({ line: 60, realDev: '/dev/mapper/vg_golden-lv_root', mp: '/', fs: 'ext4', options: 'defaults', dump: '1', pass: '1', format: true })
    expect(layout.fstab[6]).to.deep.include({ realDev: '/dev/sda2', mountDev: 'UUID=6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', uuid: '6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' })
    expect(layout.fstab[7]).to.deep.include({ realDev: '/dev/sda1', mkfsOpts: '-F 16', format: true })
    expect(layout.fstab[10]).to.deep.include({ mountDev: 'LABEL=scratch', label: 'scratch', format: false })
    expect(layout.fstab[11]).to.deep.equal({ line: 120, mountDev: 'tmpfs', mp: '/dev/shm', fs: 'tmpfs', options: 'defaults', dump: '0', pass: '0', format: true })
    expect(layout.fstab[15]).to.deep.equal({ line: 160, comment: '# nfs home & "scratch" <disabled>', format: false })
  })

  it('writes a SystemImager file back with its percentages, PReP id and LVM groups', () => {
    const layout = parseAutoinstallConf(sample())
    const xml = toAutoinstallConf(layout)
    expect(xml).to.include('<disk dev="/dev/sdb" label_type="msdos" unit_of_measurement="%">')
    expect(xml).to.include('<part num="1" size="0.391" p_type="primary" p_name="-" flags="prep" id="41" />')
    expect(xml).to.include('<part num="3" size="*" p_type="primary" p_name="-" flags="lvm" lvm_group="vg_golden" />')
    expect(xml).to.include('<raid name="/dev/md1" raid_level="raid0" raid_devices="2" spare_devices="0" persistence="yes" chunk_size="64K" lvm_group="vg_data" devices="/dev/sdb3 /dev/sdc2" />')
    expect(xml).to.include('<lv name="lv_home" size="*" />')
    expect(xml).to.include('<fsinfo line="120" real_dev="tmpfs" mp="/dev/shm" fs="tmpfs" options="defaults" dump="0" pass="0" />')
    expect(parseAutoinstallConf(xml)).to.deep.equal(layout)
  })

  it('accepts an XML declaration, single quotes and character references', () => {
    const layout = parseAutoinstallConf(`<?xml version="1.0" encoding="UTF-8"?>\n<config><fsinfo line='10' comment='#&#32;x&#x9;y' /><boel devstyle='static'></boel></config>`)
    expect(layout.fstab).to.deep.equal([{ line: 10, comment: '# x\ty', format: false }])
    expect(layout.devstyle).to.equal('static')
  })

  it('rejects what is not a simple autoinstallscript.conf', () => {
    expect(() => parseAutoinstallConf('<config><disk></config>')).to.throw(/unexpected closing tag/)
    expect(() => parseAutoinstallConf('<!DOCTYPE config [<!ENTITY x "y">]><config/>')).to.throw(/DTDs are not supported/)
    expect(() => parseAutoinstallConf('<config><fsinfo line="10" comment="&nbsp;"/></config>')).to.throw(/unknown entity &nbsp;/)
    expect(() => parseAutoinstallConf('<config/><config/>')).to.throw(/more than one root/)
    expect(() => parseAutoinstallConf('<layout/>')).to.throw(/not <config>/)
    expect(() => parseAutoinstallConf('<config><disk dev="/dev/sda" label_type="sun" /></config>')).to.throw(/label_type="sun"/)
    expect(() => parseAutoinstallConf('<config><disk dev="/dev/sda" label_type="gpt" unit_of_measurement="GB" /></config>')).to.throw(/unit_of_measurement="GB"/)
    expect(() => parseAutoinstallConf('<config><disk dev="/dev/sda" label_type="gpt"><part num="1" size="big" p_type="primary"/></disk></config>')).to.throw(/size="big"/)
    expect(() => parseAutoinstallConf('<config><disk')).to.throw(/bad attribute/)
  })
})
