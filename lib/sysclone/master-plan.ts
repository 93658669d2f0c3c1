/**
 * What an `<image>.master` script does to a node's disks, worked out from the golden client's layout: where each
 * partition goes, which device of the node stands for which device of the golden client, which file systems are
 * made and mounted. The script renderer (master-script.ts) turns this into sh; nothing here knows sh syntax beyond
 * the arithmetic and variable names the plan hands over.
 */
import type { DiskLayout, FstabEntry, Layout, PartitionLayout, RaidLayout, VolumeGroupLayout } from './layout/model.js'
import { typeOfFlags } from './layout/part-types.js'

const MIB = 1048576
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const FAT_SERIAL = /^[0-9a-f]{4}-[0-9a-f]{4}$/i
const FAT_TYPES = new Set(['vfat', 'fat', 'msdos'])
/** File systems the master script makes (anything else in fstab is not on a disk: proc, tmpfs, nfs ...). */
const MADE_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'jfs', 'reiserfs', 'swap', ...FAT_TYPES])

/** A device of the node: a shell variable the script sets (DISK0, DISK0_PART2) or a fixed path (/dev/md0). */
export type DeviceRef = { readonly variable: string } | { readonly path: string }

/** One partition as the script creates it; `first`/`last` are sh arithmetic (sectors) over SS and DISK_BYTES. */
export interface PartitionPlan {
  readonly num: number
  readonly pType: 'primary' | 'extended' | 'logical'
  readonly firstVar: string
  readonly first: string
  readonly lastVar: string
  /** Undefined: to the end of the disk (or of the extended partition). */
  readonly last: string | undefined
  /** GPT type GUID or msdos type id. */
  readonly type: string
  readonly name: string | undefined
  readonly partUuid: string | undefined
  readonly bootable: boolean
  readonly legacyBoot: boolean
}

/** One disk of the layout and the node disk DISK<index> that replaces it. */
export interface DiskPlan {
  readonly index: number
  readonly variable: string
  readonly golden: string
  readonly labelType: 'gpt' | 'msdos'
  readonly diskId: string | undefined
  /** In the order they lie on the disk. */
  readonly partitions: readonly PartitionPlan[]
  /** Bytes the partitions need with their golden sizes (without the backup GPT). */
  readonly needBytes: number
}

/** A file system (or swap area) to make. */
export interface MkfsPlan {
  readonly fs: string
  readonly dev: DeviceRef
  readonly uuid: string | undefined
  readonly label: string | undefined
  readonly options: readonly string[]
}

/** A file system to mount under the new root, in mount order. */
export interface MountPlan {
  readonly fs: string
  readonly dev: DeviceRef
  /** The mount point as a path (fstab escapes undone). */
  readonly mp: string
}

/** One line of the new /etc/fstab: verbatim text, or fields with the node's device for the first one or the trailer. */
export type FstabLine =
  | { readonly comment: string }
  | { readonly fields: readonly (string | DeviceRef)[]; readonly trailer: string | DeviceRef | undefined }

/** Everything the master script does, in order. */
export interface MasterPlan {
  readonly disks: readonly DiskPlan[]
  readonly raids: readonly RaidLayout[]
  readonly volumeGroups: readonly VolumeGroupLayout[]
  readonly mkfs: readonly MkfsPlan[]
  readonly mounts: readonly MountPlan[]
  readonly fstab: readonly FstabLine[]
  readonly esp: { readonly disk: string; readonly partition: string; readonly num: number } | undefined
  readonly root: DeviceRef | undefined
  /** Device references of the layout, by the golden client's device name. */
  readonly refs: ReadonlyMap<string, DeviceRef>
}

function alignUp(bytes: number, to: number): number {
  return Math.ceil(bytes / to) * to
}

/** The /dev/mapper name of a logical volume, as device-mapper spells it. */
export function lvMapperPath(vg: string, lv: string): string {
  return `/dev/mapper/${vg.replace(/-/g, '--')}-${lv.replace(/-/g, '--')}`
}

/** Undoes fstab's octal escapes (\040 for a space). */
export function unescapeFstab(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

function isPercentDisk(disk: DiskLayout): boolean {
  return disk.partitions.some((p) => p.sizePercent !== undefined)
}

function partitionType(disk: DiskLayout, part: PartitionLayout): string {
  const given = disk.labelType === 'gpt' ? part.typeGuid : part.mbrId
  if (given !== undefined && (disk.labelType === 'gpt' ? GUID.test(given) : /^[0-9a-f]{1,2}$/i.test(given))) return given.toLowerCase()
  return typeOfFlags(disk.labelType, part.flags, part.pType === 'extended')
}

/** Where the partitions of one disk go: golden starts kept (1 MiB aligned), golden sizes, the grow one to the end. */
function planDisk(disk: DiskLayout, index: number): DiskPlan {
  const ss = disk.sectorSize || 512
  const percent = isPercentDisk(disk)
  const sorted = [...disk.partitions].sort((a, b) => (percent ? a.num - b.num : a.startSector - b.startSector || a.num - b.num))
  const v = (num: number, what: 'FIRST' | 'LAST') => `D${index}_P${num}_${what}`
  const seen = new Set<number>()
  let primaryEnd = MIB
  let logicalEnd: number | undefined
  let extendedStart = MIB
  let needBytes = MIB
  let previous: string | undefined
  const logicalLasts: string[] = []
  const partitions = sorted.map((part): PartitionPlan => {
    if (!Number.isInteger(part.num) || part.num < 1 || seen.has(part.num)) throw new Error(`${disk.dev}: bad or repeated partition number ${part.num}`)
    seen.add(part.num)
    const goldenBytes = part.sizeSectors * ss
    let first: string
    let sizeBytes: string | undefined
    if (percent) {
      // Sequential placement, sizes a share of this node's disk (SystemImager's unit_of_measurement="%").
      first = previous === undefined ? `${MIB} / SS` : `((${previous} + ${part.pType === 'logical' ? 2 : 1}) * SS + ${MIB - 1}) / ${MIB} * ${MIB} / SS`
      sizeBytes = part.grow ? undefined : part.sizePercent !== undefined ? `DISK_BYTES * ${part.sizePercent} / 100 / ${MIB} * ${MIB}` : String(goldenBytes)
      needBytes += part.grow || part.sizePercent !== undefined ? MIB : goldenBytes
    } else {
      // A logical partition needs a sector for its EBR before it.
      const minStart = part.pType === 'logical' ? (logicalEnd ?? extendedStart) + ss : primaryEnd
      const start = alignUp(Math.max(part.startSector * ss, minStart), MIB)
      if (part.pType === 'logical') logicalEnd = start + goldenBytes
      else primaryEnd = start + goldenBytes
      if (part.pType === 'extended') extendedStart = start
      needBytes = Math.max(needBytes, start + goldenBytes)
      first = `${start} / SS`
      sizeBytes = part.grow ? undefined : String(goldenBytes)
    }
    previous = v(part.num, part.pType === 'extended' ? 'FIRST' : 'LAST')
    if (part.pType === 'logical') logicalLasts.push(v(part.num, 'LAST'))
    return {
      num: part.num,
      pType: part.pType,
      firstVar: v(part.num, 'FIRST'),
      first,
      lastVar: v(part.num, 'LAST'),
      last: sizeBytes === undefined ? undefined : `${v(part.num, 'FIRST')} + (${sizeBytes} + SS - 1) / SS - 1`,
      type: partitionType(disk, part),
      name: part.name,
      partUuid: part.partUuid,
      bootable: disk.labelType === 'msdos' && part.flags.includes('boot'),
      legacyBoot: disk.labelType === 'gpt' && part.flags.includes('legacy_boot'),
    }
  })
  // An extended partition of fixed size still has to hold its logical partitions where they went.
  const withExtended = partitions.map((p) =>
    p.pType === 'extended' && p.last !== undefined && logicalLasts.length
      ? { ...p, last: [p.last, ...logicalLasts].map((e) => `(${e})`).reduce((a, b) => `(${a} > ${b} ? ${a} : ${b})`) }
      : p,
  )
  return { index, variable: `DISK${index}`, golden: disk.dev, labelType: disk.labelType, diskId: disk.diskId, partitions: withExtended, needBytes }
}

/** The node's device for each device of the layout: disks and their partitions by variable, the rest by path. */
function deviceRefs(layout: Layout, disks: readonly DiskPlan[]): Map<string, DeviceRef> {
  const refs = new Map<string, DeviceRef>()
  layout.disks.forEach((disk, k) => {
    refs.set(disk.dev, { variable: disks[k]!.variable })
    for (const part of disk.partitions) refs.set(part.dev, { variable: `DISK${k}_PART${part.num}` })
  })
  for (const raid of layout.raids) refs.set(raid.dev, { path: raid.dev })
  for (const vg of layout.volumeGroups) for (const lv of vg.lvs) refs.set(lvMapperPath(vg.name, lv.name), { path: lvMapperPath(vg.name, lv.name) })
  return refs
}

/** md arrays in an order where each one's members exist before it (arrays on arrays last). */
function raidOrder(raids: readonly RaidLayout[]): RaidLayout[] {
  const pending = [...raids]
  const done = new Set<string>()
  const order: RaidLayout[] = []
  while (pending.length) {
    const next = pending.findIndex((r) => [...r.devices, ...r.spares].every((d) => !pending.some((p) => p.dev === d) || done.has(d)))
    const [raid] = pending.splice(next === -1 ? 0 : next, 1)
    order.push(raid!)
    done.add(raid!.dev)
  }
  return order
}

function validUuid(fs: string, uuid: string | undefined): string | undefined {
  if (uuid === undefined) return undefined
  return (FAT_TYPES.has(fs) ? FAT_SERIAL : GUID).test(uuid) ? uuid : undefined
}

/**
 * The fstab entries whose file system the script makes, one per device of the layout. Entries the golden client
 * did not have mounted (SystemImager's format="no": a swap area not in use, a noauto file system) are made too,
 * empty and with their identity, so that the clone's fstab names devices that exist; only mounted ones get content.
 */
function madeEntries(layout: Layout, refs: ReadonlyMap<string, DeviceRef>): FstabEntry[] {
  const seen = new Set<string>()
  return layout.fstab.filter((e) => {
    if (e.comment !== undefined || e.realDev === undefined || e.fs === undefined || !refs.has(e.realDev)) return false
    if (!MADE_FS.has(e.fs) || seen.has(e.realDev)) return false
    seen.add(e.realDev)
    return true
  })
}

function depth(path: string): number {
  return path.split('/').filter(Boolean).length
}

function fstabLine(entry: FstabEntry, refs: ReadonlyMap<string, DeviceRef>): FstabLine {
  if (entry.comment !== undefined) return { comment: entry.comment }
  const real = entry.realDev === undefined ? undefined : (refs.get(entry.realDev) ?? entry.realDev)
  const first: string | DeviceRef = entry.mountDev ?? real ?? ''
  const fields: (string | DeviceRef)[] = [first, entry.mp ?? '', entry.fs ?? '']
  for (const value of [entry.options, entry.dump, entry.pass]) {
    if (value === undefined) break
    fields.push(value)
  }
  return { fields, trailer: entry.mountDev !== undefined ? real : undefined }
}

/** Works out what the master script does for a layout; throws for a layout that cannot be installed. */
export function planMaster(layout: Layout): MasterPlan {
  if (layout.disks.length === 0) throw new Error('the layout has no disk with a partition table to install on')
  const disks = layout.disks.map((d, k) => planDisk(d, k))
  const refs = deviceRefs(layout, disks)
  const made = madeEntries(layout, refs)
  const mkfs = made.map((e): MkfsPlan => {
    const fs = e.fs!
    return { fs, dev: refs.get(e.realDev!)!, uuid: validUuid(fs, e.uuid), label: e.label, options: (e.mkfsOpts ?? '').split(/\s+/).filter(Boolean) }
  })
  const mounts = made
    .filter((e) => e.format && e.fs !== 'swap' && e.mp !== undefined && unescapeFstab(e.mp).startsWith('/'))
    .map((e) => ({ fs: e.fs!, dev: refs.get(e.realDev!)!, mp: unescapeFstab(e.mp!).replace(/(.)\/+$/, '$1'), line: e.line }))
    .sort((a, b) => depth(a.mp) - depth(b.mp) || a.line - b.line)
    .map(({ fs, dev, mp }): MountPlan => ({ fs, dev, mp }))
  for (const m of mounts) {
    if (/[\n\0]/.test(m.mp) || m.mp.split('/').includes('..')) throw new Error(`cannot mount at ${JSON.stringify(m.mp)}`)
  }
  if (!mounts.some((m) => m.mp === '/')) throw new Error('the layout has no root file system on its disks')
  const espMount = made.find((e) => e.format && FAT_TYPES.has(e.fs!) && layout.disks.some((d) => d.partitions.some((p) => p.dev === e.realDev && p.flags.includes('esp'))))
  let esp: MasterPlan['esp']
  layout.disks.forEach((d, k) => {
    for (const p of d.partitions) {
      if (esp === undefined && p.flags.includes('esp') && (espMount === undefined || espMount.realDev === p.dev)) esp = { disk: `DISK${k}`, partition: `DISK${k}_PART${p.num}`, num: p.num }
    }
  })
  return {
    disks,
    raids: raidOrder(layout.raids),
    volumeGroups: layout.volumeGroups,
    mkfs,
    mounts,
    fstab: layout.fstab.map((e) => fstabLine(e, refs)),
    esp,
    root: mounts.find((m) => m.mp === '/')?.dev,
    refs,
  }
}
