import type {
  DiskLayout,
  FstabEntry,
  Layout,
  LogicalVolumeLayout,
  PartitionFlag,
  PartitionLayout,
  RaidLayout,
  VolumeGroupLayout,
} from './model.js'
import { GPT_TYPE_FLAGS, MBR_EXTENDED, MBR_TYPE_FLAGS, PARTITION_FLAGS, sortFlags, typeOfFlags } from './part-types.js'

const SECTORS_PER_MIB = 2048
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const DEV_FIELD = /^(UUID|LABEL|PARTUUID|PARTLABEL)=|^\/dev\//

const HEADER = [
  '<!--',
  '  autoinstallscript.conf: the disk layout of the golden client, in SystemImager\'s format.',
  '  Sizes are in MiB (in percent of the disk where unit_of_measurement="%"); size="*" takes the rest',
  '  of the disk or of the volume group.',
  '-->',
]

function escapeAttr(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
}

function element(name: string, attrs: readonly (readonly [string, string | number | undefined])[], open = false): string {
  const text = attrs.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`).join('')
  return `<${name}${text}${open ? '>' : ' />'}`
}

function partDev(disk: string, num: number): string {
  return /\d$/.test(disk) ? `${disk}p${num}` : `${disk}${num}`
}

function isPercentDisk(disk: DiskLayout): boolean {
  return disk.partitions.some((p) => p.sizePercent !== undefined) && disk.partitions.every((p) => p.grow || p.sizePercent !== undefined)
}

function partId(disk: DiskLayout, part: PartitionLayout): string | undefined {
  const actual = disk.labelType === 'gpt' ? part.typeGuid : part.mbrId
  if (disk.labelType === 'msdos' && part.flags.includes('prep')) return actual ?? '41'
  if (actual === undefined) return undefined
  return actual === typeOfFlags(disk.labelType, part.flags, part.pType === 'extended') ? undefined : actual
}

function kib(bytes: number): string {
  return `${Math.floor(bytes / 1024)}K`
}

function fsinfo(entry: FstabEntry): string {
  if (entry.comment !== undefined) return element('fsinfo', [['line', entry.line], ['comment', entry.comment === '' ? ' ' : entry.comment]])
  let realDev = entry.realDev
  let mountDev = entry.mountDev
  if (realDev === undefined && mountDev !== undefined && !DEV_FIELD.test(mountDev)) {
    realDev = mountDev
    mountDev = undefined
  }
  return element('fsinfo', [
    ['line', entry.line],
    ['real_dev', realDev],
    ['mount_dev', mountDev],
    ['mp', entry.mp],
    ['fs', entry.fs],
    ['options', entry.options],
    ['dump', entry.dump],
    ['pass', entry.dump === undefined ? undefined : entry.pass],
    ['mkfs_opts', entry.mkfsOpts],
    ['format', entry.format ? undefined : 'no'],
  ])
}

/** Writes a layout as SystemImager's autoinstallscript.conf. */
export function toAutoinstallConf(layout: Layout): string {
  const vgOf = new Map<string, string>()
  for (const vg of layout.volumeGroups) for (const pv of vg.pvs) vgOf.set(pv, vg.name)
  const out = [...HEADER, '', '<config>']
  for (const disk of layout.disks) {
    const percent = isPercentDisk(disk)
    out.push(`  ${element('disk', [['dev', disk.dev], ['label_type', disk.labelType], ['unit_of_measurement', percent ? '%' : 'MB']], true)}`)
    for (const part of disk.partitions) {
      out.push(`    ${element('part', [
        ['num', part.num],
        ['size', part.grow ? '*' : percent ? part.sizePercent : part.sizeMiB],
        ['p_type', part.pType],
        ['p_name', part.name || '-'],
        ['flags', part.flags.length ? part.flags.join(',') : '-'],
        ['id', partId(disk, part)],
        ['lvm_group', vgOf.get(part.dev)],
      ])}`)
    }
    out.push('  </disk>', '')
  }
  for (const raid of layout.raids) {
    out.push(`  ${element('raid', [
      ['name', raid.dev],
      ['raid_level', raid.level],
      ['raid_devices', raid.devices.length],
      ['spare_devices', raid.spares.length],
      ['persistence', 'yes'],
      ['layout', raid.layout],
      ['chunk_size', raid.chunkKiB === undefined ? undefined : `${raid.chunkKiB}K`],
      ['lvm_group', vgOf.get(raid.dev)],
      ['devices', [...raid.devices, ...raid.spares].join(' ')],
    ])}`)
  }
  if (layout.raids.length) out.push('')
  if (layout.volumeGroups.length) {
    out.push('  <lvm version="2">')
    for (const vg of layout.volumeGroups) {
      out.push(`    ${element('lvm_group', [['name', vg.name], ['max_log_vols', 0], ['max_phys_vols', 0], ['phys_extent_size', kib(vg.extentSizeBytes)]], true)}`)
      for (const lv of vg.lvs) out.push(`      ${element('lv', [['name', lv.name], ['size', lv.grow ? '*' : kib(lv.sizeBytes)]])}`)
      out.push('    </lvm_group>')
    }
    out.push('  </lvm>', '')
  }
  for (const entry of layout.fstab) out.push(`  ${fsinfo(entry)}`)
  if (layout.fstab.length) out.push('')
  out.push(`  ${element('boel', [['devstyle', layout.devstyle]])}`, '</config>')
  return `${out.join('\n')}\n`
}

interface XmlElement {
  readonly name: string
  readonly attrs: Readonly<Record<string, string>>
  readonly children: readonly XmlElement[]
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' }

function decodeAttr(raw: string, at: number): string {
  return raw.replace(/[\t\n\r]/g, ' ').replace(/&([^;&]*);?/g, (ref, name: string) => {
    if (!ref.endsWith(';')) throw new Error(`XML: bare & at offset ${at}`)
    const code = /^#x([0-9a-f]+)$/i.exec(name)?.[1] ?? /^#(\d+)$/.exec(name)?.[1]
    if (code !== undefined) return String.fromCodePoint(parseInt(code, name.startsWith('#x') || name.startsWith('#X') ? 16 : 10))
    const entity = ENTITIES[name]
    if (entity === undefined) throw new Error(`XML: unknown entity &${name}; at offset ${at}`)
    return entity
  })
}

function parseXml(xml: string): XmlElement {
  type Open = { name: string; attrs: Record<string, string>; children: XmlElement[] }
  const stack: Open[] = []
  let root: XmlElement | undefined
  let i = 0
  const skipTo = (end: string, what: string): void => {
    const at = xml.indexOf(end, i)
    if (at < 0) throw new Error(`XML: unterminated ${what} at offset ${i}`)
    i = at + end.length
  }
  while (i < xml.length) {
    const lt = xml.indexOf('<', i)
    const text = xml.slice(i, lt < 0 ? xml.length : lt)
    if (text.trim() && !stack.length) throw new Error(`XML: text outside the root element at offset ${i}`)
    if (lt < 0) break
    i = lt
    if (xml.startsWith('<!--', i)) skipTo('-->', 'comment')
    else if (xml.startsWith('<![CDATA[', i)) skipTo(']]>', 'CDATA section')
    else if (xml.startsWith('<?', i)) skipTo('?>', 'processing instruction')
    else if (xml.startsWith('<!', i)) throw new Error(`XML: DTDs are not supported (offset ${i})`)
    else if (xml.startsWith('</', i)) {
      const m = /^<\/([A-Za-z_:][-\w.:]*)\s*>/.exec(xml.slice(i))
      const open = stack.pop()
      if (!m || !open || open.name !== m[1]) throw new Error(`XML: unexpected closing tag at offset ${i}`)
      i += m[0].length
      if (!stack.length) root = open
    } else {
      const m = /^<([A-Za-z_:][-\w.:]*)/.exec(xml.slice(i))
      if (!m) throw new Error(`XML: bad tag at offset ${i}`)
      if (root) throw new Error(`XML: more than one root element at offset ${i}`)
      i += m[0].length
      const el: Open = { name: m[1]!, attrs: {}, children: [] }
      for (;;) {
        const attr = /^\s+([A-Za-z_:][-\w.:]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i))
        if (attr) {
          if (attr[1]! in el.attrs) throw new Error(`XML: duplicate attribute ${attr[1]} at offset ${i}`)
          el.attrs[attr[1]!] = decodeAttr(attr[2] ?? attr[3] ?? '', i)
          i += attr[0].length
          continue
        }
        const end = /^\s*(\/?)>/.exec(xml.slice(i))
        if (!end) throw new Error(`XML: bad attribute in <${el.name}> at offset ${i}`)
        i += end[0].length
        stack.at(-1)?.children.push(el)
        if (end[1]) {
          if (!stack.length) root = el
        } else stack.push(el)
        break
      }
    }
  }
  if (stack.length) throw new Error(`XML: <${stack.at(-1)!.name}> is not closed`)
  if (!root) throw new Error('XML: no root element')
  return root
}

function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name)
}

function need(el: XmlElement, attr: string): string {
  const value = el.attrs[attr]
  if (value === undefined) throw new Error(`<${el.name}> has no ${attr}`)
  return value
}

function number(el: XmlElement, attr: string, value = need(el, attr)): number {
  const n = Number(value)
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(n)) throw new Error(`<${el.name} ${attr}="${value}"> is not a number`)
  return n
}

function kibBytes(el: XmlElement, attr: string): number {
  const value = need(el, attr)
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)B?$/i.exec(value)
  if (!m) throw new Error(`<${el.name} ${attr}="${value}"> is not a size`)
  const shift = { '': 10, K: 10, M: 20, G: 30, T: 40 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T']
  return Math.round(Number(m[1]) * 2 ** shift)
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}

function readPart(disk: XmlElement, el: XmlElement, labelType: 'gpt' | 'msdos', percent: boolean, place: { primaryEnd: number; logicalEnd: number }): PartitionLayout {
  const numValue = number(el, 'num')
  const size = need(el, 'size').trim()
  const grow = size === '*'
  const pTypeValue = el.attrs.p_type ?? 'primary'
  if (!['primary', 'extended', 'logical'].includes(pTypeValue)) throw new Error(`<part p_type="${pTypeValue}"> is not primary, extended or logical`)
  const pType = pTypeValue as PartitionLayout['pType']
  const flagWords = (el.attrs.flags ?? '-').split(',').map((f) => f.trim()).filter((f) => f && f !== '-')
  const typeWord = flagWords.map((f) => /^type=([0-9a-f]+)$/i.exec(f)?.[1]).find((t) => t !== undefined)
  const flags = flagWords.filter((f) => PARTITION_FLAGS.has(f)) as PartitionFlag[]
  const id = (el.attrs.id ?? typeWord)?.trim().toLowerCase().replace(/^0x/, '')
  let typeGuid: string | undefined
  let mbrId: string | undefined
  if (labelType === 'gpt') {
    const viaMbr = id !== undefined && !GUID.test(id) ? typeOfFlags('gpt', MBR_TYPE_FLAGS[id] ?? []) : undefined
    typeGuid = id !== undefined && GUID.test(id) ? id : (viaMbr ?? typeOfFlags('gpt', flags))
    flags.push(...(GPT_TYPE_FLAGS[typeGuid] ?? []))
  } else {
    mbrId = id !== undefined && !GUID.test(id) ? id : typeOfFlags('msdos', flags, pType === 'extended')
    flags.push(...(MBR_TYPE_FLAGS[mbrId] ?? []))
    if (MBR_EXTENDED.has(mbrId) && pType !== 'extended') throw new Error(`<part num="${numValue}"> has an extended type id but p_type="${pType}"`)
  }
  const name = el.attrs.p_name
  const mib = grow || percent ? 0 : number(el, 'size', size)
  let start = 0
  if (!percent) {
    if (pType === 'logical') {
      start = place.logicalEnd + 1
      place.logicalEnd = start + mib
    } else {
      start = place.primaryEnd
      place.primaryEnd = start + mib
      if (pType === 'extended') place.logicalEnd = start
    }
  }
  return {
    num: numValue,
    dev: partDev(need(disk, 'dev'), numValue),
    startSector: Math.round(start * SECTORS_PER_MIB),
    sizeSectors: Math.round(mib * SECTORS_PER_MIB),
    sizeMiB: Math.floor(mib),
    ...opt('sizePercent', percent && !grow ? number(el, 'size', size) : undefined),
    grow,
    pType,
    ...opt('typeGuid', typeGuid),
    ...opt('mbrId', mbrId),
    ...opt('name', name && name !== '-' && name !== '(v1)' ? name : undefined),
    flags: sortFlags(flags),
  }
}

function readDisk(el: XmlElement, pvs: Map<string, string[]>): DiskLayout {
  const labelType = need(el, 'label_type').toLowerCase()
  if (labelType !== 'gpt' && labelType !== 'msdos') throw new Error(`<disk label_type="${labelType}"> is not supported (gpt or msdos)`)
  const unit = (el.attrs.unit_of_measurement ?? 'MB').toUpperCase()
  if (unit !== 'MB' && unit !== '%') throw new Error(`<disk unit_of_measurement="${unit}"> is not MB or %`)
  const place = { primaryEnd: 1, logicalEnd: 1 }
  const parts = children(el, 'part').map((p) => ({ el: p, num: number(p, 'num') })).sort((a, b) => a.num - b.num)
  const partitions = parts.map(({ el: p }) => {
    const part = readPart(el, p, labelType, unit === '%', place)
    const vg = p.attrs.lvm_group
    if (vg) pvs.set(vg, [...(pvs.get(vg) ?? []), part.dev])
    return part
  })
  return { dev: need(el, 'dev'), labelType, sizeBytes: 0, sectorSize: 512, partitions }
}

function readRaid(el: XmlElement, pvs: Map<string, string[]>): RaidLayout {
  const dev = need(el, 'name')
  const all = (el.attrs.devices ?? '').split(/\s+/).filter(Boolean)
  const spareCount = el.attrs.spare_devices === undefined ? 0 : number(el, 'spare_devices')
  const active = el.attrs.raid_devices === undefined ? all.length - spareCount : number(el, 'raid_devices')
  const vg = el.attrs.lvm_group
  if (vg) pvs.set(vg, [...(pvs.get(vg) ?? []), dev])
  return {
    dev,
    level: need(el, 'raid_level'),
    devices: all.slice(0, active),
    spares: all.slice(active),
    ...opt('chunkKiB', el.attrs.chunk_size === undefined ? undefined : kibBytes(el, 'chunk_size') / 1024),
    ...opt('layout', el.attrs.layout),
  }
}

function readVolumeGroup(el: XmlElement, pvs: ReadonlyMap<string, string[]>): VolumeGroupLayout {
  const name = need(el, 'name')
  const lvs = children(el, 'lv').map((lv): LogicalVolumeLayout => {
    const grow = need(lv, 'size').trim() === '*'
    return { name: need(lv, 'name'), sizeBytes: grow ? 0 : kibBytes(lv, 'size'), grow }
  })
  return { name, extentSizeBytes: kibBytes(el, 'phys_extent_size'), pvs: pvs.get(name) ?? [], lvs }
}

function readFsinfo(el: XmlElement): FstabEntry {
  const line = number(el, 'line')
  const a = el.attrs
  if (a.comment !== undefined) return { line, comment: a.comment === ' ' ? '' : a.comment, format: false }
  const realDev = a.real_dev?.startsWith('/dev/') ? a.real_dev : undefined
  const mountDev = a.mount_dev || (realDev === undefined && a.real_dev ? a.real_dev : undefined)
  return {
    line,
    ...opt('realDev', realDev),
    ...opt('mountDev', mountDev),
    ...opt('mp', a.mp),
    ...opt('fs', a.fs),
    ...opt('options', a.options),
    ...opt('dump', a.dump),
    ...opt('pass', a.pass),
    ...opt('mkfsOpts', a.mkfs_opts || undefined),
    format: a.format !== 'no',
    ...opt('uuid', /^UUID=(.+)$/.exec(mountDev ?? '')?.[1]),
    ...opt('label', /^LABEL=(.+)$/.exec(mountDev ?? '')?.[1]),
  }
}

/** Reads an autoinstallscript.conf (ours or SystemImager's); what the format does not hold stays undefined, or 0 for sizes. */
export function parseAutoinstallConf(xml: string): Layout {
  const root = parseXml(xml)
  if (root.name !== 'config') throw new Error(`autoinstallscript.conf: the root element is <${root.name}>, not <config>`)
  const pvs = new Map<string, string[]>()
  const disks = children(root, 'disk').map((d) => readDisk(d, pvs))
  const raids = children(root, 'raid').map((r) => readRaid(r, pvs))
  const volumeGroups = children(root, 'lvm').flatMap((l) => children(l, 'lvm_group')).map((g) => readVolumeGroup(g, pvs))
  const fstab = children(root, 'fsinfo').map(readFsinfo).sort((a, b) => a.line - b.line)
  const devstyle = children(root, 'boel')[0]?.attrs.devstyle
  return {
    version: 1,
    disks,
    raids,
    volumeGroups,
    fstab,
    firmware: disks.some((d) => d.partitions.some((p) => p.flags.includes('esp'))) ? 'uefi' : 'bios',
    devstyle: devstyle === 'devfs' || devstyle === 'static' ? devstyle : 'udev',
  }
}
