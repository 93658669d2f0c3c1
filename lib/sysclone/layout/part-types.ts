import type { PartitionFlag } from './model.js'

/** GPT type GUID of a plain Linux file system partition, what `parted mkpart` creates. */
export const GPT_LINUX_DATA = '0fc63daf-8483-4772-8e79-3d69d8477de4'

/** Flags parted shows for a GPT partition type GUID. */
export const GPT_TYPE_FLAGS: Readonly<Record<string, readonly PartitionFlag[]>> = {
  'c12a7328-f81f-11d2-ba4b-00a0c93ec93b': ['boot', 'esp'],
  '21686148-6449-6e6f-744e-656564454649': ['bios_grub'],
  'e6d6d379-f507-44c2-a23c-238f2a3df928': ['lvm'],
  'a19d880f-05fc-4d3b-a006-743f0f84911e': ['raid'],
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': ['swap'],
  '9e1a2d38-c612-4316-aa26-8b49521e5a8b': ['prep'],
  'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7': ['msftdata'],
}

/** Flags parted shows for an msdos partition type id. */
export const MBR_TYPE_FLAGS: Readonly<Record<string, readonly PartitionFlag[]>> = {
  '8e': ['lvm'],
  fd: ['raid'],
  '82': ['swap'],
  '41': ['prep'],
  ef: ['esp'],
  '14': ['hidden'],
  '16': ['hidden'],
  '17': ['hidden'],
  '1b': ['hidden'],
  '1c': ['hidden'],
  '1e': ['hidden'],
}

/** msdos type ids of extended partitions. */
export const MBR_EXTENDED = new Set(['5', 'f', '85'])

const FLAG_ORDER: readonly PartitionFlag[] = ['boot', 'swap', 'hidden', 'raid', 'lvm', 'prep', 'bios_grub', 'legacy_boot', 'msftdata', 'esp']

/** Every flag name the model knows. */
export const PARTITION_FLAGS: ReadonlySet<string> = new Set(FLAG_ORDER)

/** Flags without duplicates, in the order `parted print` lists them. */
export function sortFlags(flags: Iterable<PartitionFlag>): PartitionFlag[] {
  return [...new Set(flags)].sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b))
}

const GPT_TYPE_OF_FLAG: readonly (readonly [PartitionFlag, string])[] = [
  ['esp', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'],
  ['bios_grub', '21686148-6449-6e6f-744e-656564454649'],
  ['lvm', 'e6d6d379-f507-44c2-a23c-238f2a3df928'],
  ['raid', 'a19d880f-05fc-4d3b-a006-743f0f84911e'],
  ['swap', '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f'],
  ['prep', '9e1a2d38-c612-4316-aa26-8b49521e5a8b'],
  ['msftdata', 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7'],
  ['boot', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'],
]

const MBR_TYPE_OF_FLAG: readonly (readonly [PartitionFlag, string])[] = [
  ['lvm', '8e'],
  ['raid', 'fd'],
  ['swap', '82'],
  ['prep', '41'],
  ['esp', 'ef'],
]

/** The partition type parted gives a partition it creates with these flags (GPT GUID, or msdos id). */
export function typeOfFlags(labelType: 'gpt' | 'msdos', flags: readonly PartitionFlag[], extended = false): string {
  if (labelType === 'gpt') return GPT_TYPE_OF_FLAG.find(([flag]) => flags.includes(flag))?.[1] ?? GPT_LINUX_DATA
  if (extended) return '5'
  return MBR_TYPE_OF_FLAG.find(([flag]) => flags.includes(flag))?.[1] ?? '83'
}
