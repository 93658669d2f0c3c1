/**
 * The disk layout of a golden client, as capture records it and the installer recreates it. Written into the image
 * as SystemImager's `etc/systemimager/autoinstallscript.conf` (for SI tools and hand edits) and as
 * `etc/systemimager/layout.json` (this model, complete).
 */

/** Partition flags in SystemImager's (parted's) spelling. */
export type PartitionFlag = 'boot' | 'esp' | 'lvm' | 'raid' | 'bios_grub' | 'prep' | 'swap' | 'legacy_boot' | 'msftdata' | 'hidden'

/** One partition. */
export interface PartitionLayout {
  readonly num: number
  /** Device on the golden client: /dev/vda1, /dev/nvme0n1p1, /dev/loop3p2. */
  readonly dev: string
  readonly startSector: number
  readonly sizeSectors: number
  /** Size in MiB (rounded down), what autoinstallscript.conf records. */
  readonly sizeMiB: number
  /** Size as a percentage of the disk, from an autoinstallscript.conf with unit_of_measurement="%". */
  readonly sizePercent?: number
  /** The partition that grows to fill a larger disk (SystemImager's size="*"): the one ending last. */
  readonly grow: boolean
  /** msdos: primary, extended or logical; gpt partitions are primary. */
  readonly pType: 'primary' | 'extended' | 'logical'
  /** GPT partition type GUID (lower case). */
  readonly typeGuid?: string
  /** msdos partition type id in hex without 0x ("83", "ef", "41"). */
  readonly mbrId?: string
  /** GPT partition name. */
  readonly name?: string
  /** PARTUUID (GPT unique GUID, or msdos `<diskid>-<nn>`). */
  readonly partUuid?: string
  readonly flags: readonly PartitionFlag[]
}

/** One disk and its partition table. */
export interface DiskLayout {
  readonly dev: string
  readonly labelType: 'gpt' | 'msdos'
  readonly sizeBytes: number
  readonly sectorSize: number
  /** GPT disk GUID or msdos disk identifier (0x...). */
  readonly diskId?: string
  readonly partitions: readonly PartitionLayout[]
}

/** One md software RAID array. */
export interface RaidLayout {
  readonly dev: string
  readonly level: string
  readonly devices: readonly string[]
  readonly spares: readonly string[]
  readonly metadata?: string
  readonly chunkKiB?: number
  readonly layout?: string
  readonly name?: string
  readonly uuid?: string
}

/** One LVM logical volume. */
export interface LogicalVolumeLayout {
  readonly name: string
  readonly sizeBytes: number
  /** Takes the rest of the volume group (SystemImager's size="*"): the last LV created. */
  readonly grow: boolean
  readonly uuid?: string
}

/** One LVM volume group. */
export interface VolumeGroupLayout {
  readonly name: string
  readonly extentSizeBytes: number
  /** Physical volumes: partitions or md devices. */
  readonly pvs: readonly string[]
  readonly lvs: readonly LogicalVolumeLayout[]
  readonly uuid?: string
}

/** One line of the golden client's /etc/fstab: a comment (kept verbatim) or a file system. */
export interface FstabEntry {
  /** SystemImager's line numbers: 10, 20, 30 ... in fstab order. */
  readonly line: number
  /** A comment or blank line, verbatim. */
  readonly comment?: string
  /** The block device behind the entry on the golden client (resolved from UUID=/LABEL=/by-path names). */
  readonly realDev?: string
  /** The first fstab field when it is not the real device: UUID=..., LABEL=..., PARTUUID=... */
  readonly mountDev?: string
  readonly mp?: string
  readonly fs?: string
  readonly options?: string
  readonly dump?: string
  readonly pass?: string
  /** Extra mkfs options, e.g. "-F 32" for vfat. */
  readonly mkfsOpts?: string
  /** False for entries that were not mounted (SystemImager's format="no"). */
  readonly format: boolean
  /** File-system identity from blkid, re-applied on the clone. */
  readonly uuid?: string
  readonly label?: string
}

/** The whole layout of a golden client. */
export interface Layout {
  readonly version: 1
  readonly disks: readonly DiskLayout[]
  readonly raids: readonly RaidLayout[]
  readonly volumeGroups: readonly VolumeGroupLayout[]
  readonly fstab: readonly FstabEntry[]
  /** How the golden client booted: UEFI when /sys/firmware/efi exists. */
  readonly firmware: 'uefi' | 'bios'
  /** SystemImager's <boel devstyle=...>. */
  readonly devstyle: 'udev' | 'devfs' | 'static'
}

/** Runs a command (argument array, never a shell string) on the golden client. */
export interface Probe {
  run(argv: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }>
  /** A file's content, or undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>
  /** True when the path exists. */
  exists(path: string): Promise<boolean>
}
