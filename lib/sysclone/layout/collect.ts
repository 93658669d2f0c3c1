import type {
  DiskLayout,
  FstabEntry,
  Layout,
  LogicalVolumeLayout,
  PartitionFlag,
  PartitionLayout,
  Probe,
  RaidLayout,
  VolumeGroupLayout,
} from './model.js'
import { GPT_TYPE_FLAGS, MBR_EXTENDED, MBR_TYPE_FLAGS, sortFlags } from './part-types.js'

const LSBLK = ['lsblk', '-J', '-b', '-o', 'NAME,KNAME,PATH,TYPE,SIZE,PKNAME,LOG-SEC']
const BLKID = ['blkid', '-o', 'export']
const FINDMNT = ['findmnt', '-J', '-l', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS']
const SWAPON = ['swapon', '--show=NAME,TYPE', '--noheadings', '--raw']
const LVM_REPORT = ['--reportformat', 'json', '--units', 'b', '--nosuffix']
const PVS = ['pvs', ...LVM_REPORT, '-o', 'pv_name,vg_name,pv_uuid']
const VGS = ['vgs', ...LVM_REPORT, '-o', 'vg_name,vg_uuid,vg_extent_size,vg_free_count']
const LVS = ['lvs', ...LVM_REPORT, '-o', 'lv_name,vg_name,lv_uuid,lv_size,lv_time']

const RAID5_LAYOUTS = ['left-asymmetric', 'right-asymmetric', 'left-symmetric', 'right-symmetric', 'parity-first', 'parity-last']

interface BlockDevice {
  readonly name: string
  readonly kname: string
  readonly path: string
  readonly type: string
  readonly size: number
  readonly logSec?: number
  readonly parents: Set<string>
}

interface Mount {
  readonly target: string
  readonly source: string
  readonly fstype: string
}

interface MdstatEntry {
  readonly chunkKiB?: number
  readonly layout?: string
}

interface LvmReport {
  readonly pvs: readonly { readonly pvName: string; readonly vgName: string }[]
  readonly vgs: ReadonlyMap<string, { readonly uuid: string; readonly extentSize: number; readonly freeCount: number }>
  readonly lvs: readonly { readonly name: string; readonly vgName: string; readonly uuid: string; readonly size: number; readonly time: string }[]
}

interface SfdiskPartition {
  readonly node: string
  readonly start: number
  readonly size: number
  readonly type: string
  readonly uuid?: string
  readonly name?: string
  readonly attrs?: string
  readonly bootable?: boolean
}

interface SfdiskTable {
  readonly label: string
  readonly id?: string
  readonly sectorsize?: number
  readonly partitions?: readonly SfdiskPartition[]
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
}

function byDevName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true })
}

async function output(probe: Probe, argv: readonly string[], okCodes: readonly number[] = [0]): Promise<string> {
  const res = await probe.run(argv)
  if (!okCodes.includes(res.code)) {
    throw new Error(`${argv.join(' ')} failed with exit code ${res.code}${res.stderr.trim() ? `: ${res.stderr.trim()}` : ''}`)
  }
  return res.stdout
}

function parseJson(argv: readonly string[], text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`${argv[0]} printed no valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return undefined
}

function num(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
  return Number.isFinite(n) ? n : undefined
}

function parseLsblk(text: string): BlockDevice[] {
  const devices = new Map<string, BlockDevice>()
  const walk = (node: Record<string, unknown>, parent: string | undefined): void => {
    const name = str(node.name) ?? ''
    const kname = str(node.kname) ?? name
    const type = str(node.type) ?? ''
    const path = str(node.path) ?? (['lvm', 'crypt', 'dm', 'mpath'].includes(type) ? `/dev/mapper/${name}` : `/dev/${name}`)
    let dev = devices.get(path)
    if (!dev) {
      const logSec = num(node['log-sec'])
      dev = { name, kname, path, type, size: num(node.size) ?? 0, ...opt('logSec', logSec), parents: new Set() }
      devices.set(path, dev)
    }
    const pkname = str(node.pkname)
    if (parent) dev.parents.add(parent)
    else if (pkname) dev.parents.add(`/dev/${pkname}`)
    for (const child of Array.isArray(node.children) ? node.children : []) walk(record(child), path)
  }
  const top = record(parseJson(LSBLK, text)).blockdevices
  for (const node of Array.isArray(top) ? top : []) walk(record(node), undefined)
  return [...devices.values()]
}

function unescapeBlkid(value: string): string {
  return value.replace(/\\(.)/g, '$1')
}

function parseBlkidExport(text: string): Record<string, string>[] {
  const blocks: Record<string, string>[] = []
  let current: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (!line.trim()) {
      if (Object.keys(current).length) blocks.push(current)
      current = {}
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0) current[line.slice(0, eq)] = unescapeBlkid(line.slice(eq + 1))
  }
  if (Object.keys(current).length) blocks.push(current)
  return blocks
}

function parseFindmnt(text: string): Mount[] {
  const list = record(parseJson(FINDMNT, text)).filesystems
  const mounts: Mount[] = []
  const walk = (node: Record<string, unknown>): void => {
    const target = str(node.target)
    const source = str(node.source)
    if (target !== undefined && source !== undefined) {
      mounts.push({ target, source: source.replace(/\[.*\]$/, ''), fstype: str(node.fstype) ?? '' })
    }
    for (const child of Array.isArray(node.children) ? node.children : []) walk(record(child))
  }
  for (const node of Array.isArray(list) ? list : []) walk(record(node))
  return mounts
}

function unescapeHex(name: string): string {
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

function parseSwaps(swapon: string | undefined, procSwaps: string | undefined): string[] {
  if (swapon !== undefined) {
    return swapon.split('\n').map((l) => l.trim().split(/\s+/)).filter(([name, type]) => name && type === 'partition').map(([name]) => unescapeHex(name!))
  }
  return (procSwaps ?? '').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter(([name, type]) => name && type === 'partition').map(([name]) => unescapeFstab(name!))
}

function parseMdstat(text: string): Map<string, MdstatEntry> {
  const arrays = new Map<string, MdstatEntry>()
  const lines = text.split('\n')
  lines.forEach((line, i) => {
    const head = /^(md\S*)\s*:\s*\S+\s+(\S+)/.exec(line)
    if (!head) return
    const detail = lines[i + 1] ?? ''
    const chunk = /(\d+)k chunks?/i.exec(detail)
    const algorithm = /algorithm (\d+)/.exec(detail)
    const copies = /(\d+) (near|far|offset)-copies/.exec(detail)
    const layout = algorithm ? RAID5_LAYOUTS[Number(algorithm[1])] : copies ? `${copies[2]![0]}${copies[1]}` : undefined
    arrays.set(`/dev/${head[1]}`, { ...opt('chunkKiB', chunk ? Number(chunk[1]) : undefined), ...opt('layout', layout) })
  })
  return arrays
}

function unescapeFstab(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

function mapperName(vg: string, lv: string): string {
  return `/dev/mapper/${vg.replace(/-/g, '--')}-${lv.replace(/-/g, '--')}`
}

const TAGS: Readonly<Record<string, string>> = { uuid: 'UUID', label: 'LABEL', partuuid: 'PARTUUID', partlabel: 'PARTLABEL' }

class Devices {
  readonly byPath = new Map<string, BlockDevice>()
  private readonly byKname = new Map<string, BlockDevice>()
  private readonly tagsByDev = new Map<string, Record<string, string>>()
  private readonly links = new Map<string, string | undefined>()

  constructor(private readonly probe: Probe, devices: readonly BlockDevice[], blkid: readonly Record<string, string>[]) {
    for (const dev of devices) {
      this.byPath.set(dev.path, dev)
      this.byKname.set(dev.kname, dev)
    }
    for (const tags of blkid) {
      if (!tags.DEVNAME) continue
      this.tagsByDev.set(this.lookup(tags.DEVNAME) ?? tags.DEVNAME, tags)
    }
  }

  tags(dev: string): Record<string, string> {
    return this.tagsByDev.get(dev) ?? {}
  }

  findTag(tag: string, value: string): string | undefined {
    for (const [dev, tags] of this.tagsByDev) if (tags[tag] === value) return dev
    for (const [dev, tags] of this.tagsByDev) if (tags[tag]?.toLowerCase() === value.toLowerCase()) return dev
    return undefined
  }

  /** The lsblk path of a device name without following symlinks, when it can be told from the names alone. */
  lookup(dev: string): string | undefined {
    const known = this.byPath.get(dev)
    if (known) return known.path
    const top = /^\/dev\/([^/]+)$/.exec(dev)
    if (top) return this.byKname.get(top[1]!)?.path
    const byTag = /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.+)$/.exec(dev)
    if (byTag) return this.findTag(TAGS[byTag[1]!]!, unescapeHex(byTag[2]!))
    const vgLv = /^\/dev\/([^/]+)\/([^/]+)$/.exec(dev)
    if (vgLv && !['disk', 'md', 'mapper'].includes(vgLv[1]!)) return this.byPath.get(mapperName(vgLv[1]!, vgLv[2]!))?.path
    return undefined
  }

  /** The lsblk path of a device name, following udev and md symlinks on the golden client. */
  async canon(dev: string): Promise<string> {
    const direct = this.lookup(dev)
    if (direct) return direct
    if (!/^\/dev\/[^/]+\/./.test(dev)) return dev
    if (!this.links.has(dev)) {
      const res = await this.probe.run(['readlink', '-f', dev])
      this.links.set(dev, res.code === 0 && res.stdout.trim() ? res.stdout.trim() : undefined)
    }
    const target = this.links.get(dev)
    return target === undefined ? dev : (this.lookup(target) ?? target)
  }
}

async function readLvm(probe: Probe): Promise<LvmReport> {
  const report = async (argv: readonly string[], key: string): Promise<Record<string, unknown>[]> => {
    const reports = record(parseJson(argv, await output(probe, argv))).report
    return (Array.isArray(reports) ? reports : []).flatMap((r) => {
      const rows = record(r)[key]
      return Array.isArray(rows) ? rows.map(record) : []
    })
  }
  const [pvs, vgs, lvs] = await Promise.all([report(PVS, 'pv'), report(VGS, 'vg'), report(LVS, 'lv')])
  return {
    pvs: pvs.map((r) => ({ pvName: str(r.pv_name) ?? '', vgName: str(r.vg_name) ?? '' })).filter((pv) => pv.vgName),
    vgs: new Map(vgs.map((r) => [str(r.vg_name) ?? '', { uuid: str(r.vg_uuid) ?? '', extentSize: num(r.vg_extent_size) ?? 0, freeCount: num(r.vg_free_count) ?? 0 }])),
    lvs: lvs.map((r) => ({ name: str(r.lv_name) ?? '', vgName: str(r.vg_name) ?? '', uuid: str(r.lv_uuid) ?? '', size: num(r.lv_size) ?? 0, time: str(r.lv_time) ?? '' })),
  }
}

async function readRaid(probe: Probe, dev: string, mdstat: ReadonlyMap<string, MdstatEntry>): Promise<RaidLayout> {
  const vars = new Map<string, string>()
  for (const line of (await output(probe, ['mdadm', '--detail', '--export', dev])).split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) vars.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  const members: { dev: string; role: number | 'spare' }[] = []
  for (const [key, role] of vars) {
    const m = /^MD_DEVICE_(.+)_ROLE$/.exec(key)
    const member = m ? vars.get(`MD_DEVICE_${m[1]}_DEV`) : undefined
    if (member && (role === 'spare' || /^\d+$/.test(role))) members.push({ dev: member, role: role === 'spare' ? 'spare' : Number(role) })
  }
  const active = members.filter((m) => m.role !== 'spare').sort((a, b) => (a.role as number) - (b.role as number))
  const stat = mdstat.get(dev) ?? {}
  return {
    dev,
    level: vars.get('MD_LEVEL') ?? 'unknown',
    devices: active.map((m) => m.dev),
    spares: members.filter((m) => m.role === 'spare').map((m) => m.dev),
    ...opt('metadata', vars.get('MD_METADATA')),
    ...opt('chunkKiB', stat.chunkKiB),
    ...opt('layout', stat.layout),
    ...opt('name', vars.get('MD_NAME')),
    ...opt('uuid', vars.get('MD_UUID')),
  }
}

function partitionNumber(disk: string, node: string): number {
  const rest = node.startsWith(disk) ? node.slice(disk.length).replace(/^p/, '') : (/(\d+)$/.exec(node)?.[1] ?? '')
  if (!/^\d+$/.test(rest)) throw new Error(`cannot tell the partition number of ${node} on ${disk}`)
  return Number(rest)
}

function toDisk(dev: BlockDevice, table: SfdiskTable): DiskLayout | undefined {
  const labelType = table.label === 'gpt' ? 'gpt' : table.label === 'dos' ? 'msdos' : undefined
  if (!labelType) return undefined
  const sectorSize = table.sectorsize ?? dev.logSec ?? 512
  const parts = table.partitions ?? []
  const lastEnd = Math.max(0, ...parts.map((p) => p.start + p.size))
  const partitions = parts.map((p): PartitionLayout => {
    const n = partitionNumber(dev.path, p.node)
    const type = p.type.toLowerCase()
    const common = {
      num: n,
      dev: p.node,
      startSector: p.start,
      sizeSectors: p.size,
      sizeMiB: Math.floor((p.size * sectorSize) / 1048576),
      grow: p.start + p.size === lastEnd,
    }
    if (labelType === 'gpt') {
      const flags: PartitionFlag[] = [...(GPT_TYPE_FLAGS[type] ?? [])]
      if (p.attrs?.split(/\s+/).includes('LegacyBIOSBootable')) flags.push('legacy_boot')
      return { ...common, pType: 'primary', typeGuid: type, ...opt('name', p.name || undefined), ...opt('partUuid', p.uuid?.toLowerCase()), flags: sortFlags(flags) }
    }
    const mbrId = type.replace(/^0x/, '')
    const flags: PartitionFlag[] = [...(MBR_TYPE_FLAGS[mbrId] ?? [])]
    if (p.bootable) flags.push('boot')
    const pType = n > 4 ? 'logical' : MBR_EXTENDED.has(mbrId) ? 'extended' : 'primary'
    const diskId = table.id?.toLowerCase().replace(/^0x/, '')
    return { ...common, pType, mbrId, ...opt('partUuid', diskId ? `${diskId}-${n.toString(16).padStart(2, '0')}` : undefined), flags: sortFlags(flags) }
  })
  return { dev: dev.path, labelType, sizeBytes: dev.size, sectorSize, ...opt('diskId', table.id?.toLowerCase()), partitions: partitions.sort((a, b) => a.num - b.num) }
}

async function fatSize(probe: Probe, dev: string, cached: Record<string, string>): Promise<string> {
  const res = await probe.run(['blkid', '-p', '-o', 'export', dev])
  const version = res.code === 0 ? parseBlkidExport(res.stdout)[0]?.VERSION : undefined
  const bits = /FAT(12|16|32)/.exec(version ?? '')?.[1] ?? (cached.SEC_TYPE === 'msdos' ? '16' : '32')
  return `-F ${bits}`
}

async function readFstab(
  text: string,
  probe: Probe,
  devices: Devices,
  mounts: readonly Mount[],
  swaps: ReadonlySet<string>,
): Promise<FstabEntry[]> {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const entries: FstabEntry[] = []
  for (const [i, raw] of lines.entries()) {
    const line = (i + 1) * 10
    const fields = raw.trim().split(/\s+/)
    const [first = '', mp = '', fs = '', options, dump, pass] = fields
    if (raw.trim() === '' || raw.trim().startsWith('#') || fields.length < 3) {
      entries.push({ line, comment: raw, format: false })
      continue
    }
    const target = unescapeFstab(mp)
    const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/.exec(first)
    let realDev = tag
      ? devices.findTag(tag[1]!, unescapeFstab(tag[2]!).replace(/^"(.*)"$/, '$1'))
      : first.startsWith('/dev/')
        ? await devices.canon(unescapeFstab(first))
        : undefined
    const atTarget = mounts.filter((m) => m.target === target)
    if ((realDev === undefined || !devices.byPath.has(realDev)) && (tag || first.startsWith('/dev/'))) {
      const source = atTarget.find((m) => m.source.startsWith('/dev/'))?.source
      if (source) realDev = await devices.canon(source)
    }
    let mounted: boolean
    if (fs === 'swap') mounted = realDev !== undefined && swaps.has(realDev)
    else if (realDev === undefined) mounted = atTarget.length > 0
    else {
      mounted = false
      for (const m of atTarget) {
        if (m.fstype.startsWith('fuse') || (m.source.startsWith('/dev/') && (await devices.canon(m.source)) === realDev)) mounted = true
      }
    }
    const tags = realDev === undefined ? {} : devices.tags(realDev)
    const fat = mounted && realDev !== undefined && ['vfat', 'msdos', 'fat'].includes(fs) && ['vfat', 'msdos'].includes(tags.TYPE ?? '')
    entries.push({
      line,
      ...opt('realDev', realDev),
      ...opt('mountDev', first !== realDev ? first : undefined),
      mp,
      fs,
      ...opt('options', options),
      ...opt('dump', dump),
      ...opt('pass', pass),
      ...opt('mkfsOpts', fat && realDev !== undefined ? await fatSize(probe, realDev, tags) : undefined),
      format: mounted,
      ...opt('uuid', tags.UUID),
      ...opt('label', tags.LABEL),
    })
  }
  return entries
}

function isMd(dev: BlockDevice): boolean {
  return dev.type.startsWith('raid') || dev.type === 'linear' || dev.type === 'md' || /^md\d/.test(dev.kname)
}

/** Reads the golden client's fstab and the disks, md arrays and volume groups under what it mounts and swaps on. */
export async function collectLayout(probe: Probe): Promise<Layout> {
  const [lsblkOut, blkidOut, findmntOut, swapon, fstabText, mdstatText, efi] = await Promise.all([
    output(probe, LSBLK),
    output(probe, BLKID, [0, 2]),
    output(probe, FINDMNT),
    probe.run(SWAPON),
    probe.readFile('/etc/fstab'),
    probe.readFile('/proc/mdstat'),
    probe.exists('/sys/firmware/efi'),
  ])
  const devices = new Devices(probe, parseLsblk(lsblkOut), parseBlkidExport(blkidOut))
  const mounts = parseFindmnt(findmntOut)
  const swapNames = parseSwaps(swapon.code === 0 ? swapon.stdout : undefined, swapon.code === 0 ? undefined : await probe.readFile('/proc/swaps'))
  const swaps = new Set(await Promise.all(swapNames.map((s) => devices.canon(s))))
  const fstab = await readFstab(fstabText ?? '', probe, devices, mounts, swaps)
  const mdstat = parseMdstat(mdstatText ?? '')

  const queue: string[] = [...swaps]
  for (const m of mounts) if (m.source.startsWith('/dev/')) queue.push(await devices.canon(m.source))
  for (const e of fstab) if (e.realDev !== undefined && e.format) queue.push(e.realDev)

  const disks = new Set<string>()
  const raids = new Map<string, RaidLayout>()
  const vgNames = new Set<string>()
  const seen = new Set<string>()
  let lvm: LvmReport | undefined
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const dev = devices.byPath.get(path)
    if (!dev || seen.has(path)) continue
    seen.add(path)
    if (dev.type === 'part') {
      for (const parent of dev.parents) {
        disks.add(parent)
        queue.push(parent)
      }
    } else if (dev.type === 'lvm') {
      lvm ??= await readLvm(probe)
      const lv = lvm.lvs.find((l) => mapperName(l.vgName, l.name) === path)
      if (!lv) throw new Error(`${path} is an LVM volume that lvs does not list`)
      vgNames.add(lv.vgName)
      for (const pv of lvm.pvs) if (pv.vgName === lv.vgName) queue.push(await devices.canon(pv.pvName))
    } else if (isMd(dev)) {
      const raid = await readRaid(probe, path, mdstat)
      const members = await Promise.all([...raid.devices, ...raid.spares].map((m) => devices.canon(m)))
      raids.set(path, { ...raid, devices: members.slice(0, raid.devices.length), spares: members.slice(raid.devices.length) })
      queue.push(...members)
    } else if (!['disk', 'loop', 'rom'].includes(dev.type)) {
      queue.push(...dev.parents)
    }
  }

  const diskLayouts: DiskLayout[] = []
  for (const path of [...disks].sort(byDevName)) {
    const dev = devices.byPath.get(path)
    if (!dev) continue
    const res = await probe.run(['sfdisk', '--json', path])
    if (res.code !== 0 || !res.stdout.trim()) continue
    const table = record(parseJson(['sfdisk'], res.stdout)).partitiontable as SfdiskTable | undefined
    const disk = table && toDisk(dev, table)
    if (disk) diskLayouts.push(disk)
  }

  const volumeGroups: VolumeGroupLayout[] = []
  for (const name of [...vgNames].sort()) {
    const report = lvm!
    const vg = report.vgs.get(name)
    const pvs = await Promise.all(report.pvs.filter((pv) => pv.vgName === name).map((pv) => devices.canon(pv.pvName)))
    const lvs = report.lvs.filter((lv) => lv.vgName === name).sort((a, b) => a.time.localeCompare(b.time))
    const lvLayouts = lvs.map((lv, i): LogicalVolumeLayout => ({
      name: lv.name,
      sizeBytes: lv.size,
      grow: i === lvs.length - 1 && vg?.freeCount === 0,
      ...opt('uuid', lv.uuid || undefined),
    }))
    volumeGroups.push({ name, extentSizeBytes: vg?.extentSize ?? 0, pvs, lvs: lvLayouts, ...opt('uuid', vg?.uuid || undefined) })
  }

  const dev = mounts.find((m) => m.target === '/dev')
  return {
    version: 1,
    disks: diskLayouts,
    raids: [...raids.values()].sort((a, b) => byDevName(a.dev, b.dev)),
    volumeGroups,
    fstab,
    firmware: efi ? 'uefi' : 'bios',
    devstyle: dev && ['devtmpfs', 'tmpfs', 'udev'].includes(dev.fstype) ? 'udev' : 'static',
  }
}
