import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../paths.js'

/** File systems whose content belongs in the image (SystemImager's list, plus btrfs). */
export const CAPTURED_FS_TYPES: ReadonlySet<string> = new Set(['ext2', 'ext3', 'ext4', 'reiserfs', 'jfs', 'xfs', 'vfat', 'fat', 'msdos', 'btrfs'])

/** One mounted file system of the golden client. */
export interface Mount {
  readonly target: string
  readonly source: string
  readonly fstype: string
}

/** The data files shipped with us (share/xcat/sysclone). */
export const SHARE_SYSCLONE = join(PROJECT_ROOT, 'share', 'xcat', 'sysclone')

/**
 * Whether a mount's content is captured: a local disk file system, or a FUSE mount that /etc/fstab declares as one
 * of those (a FAT ESP mounted through FUSE).
 */
export function isCaptured(mount: Mount, fstabTypes: ReadonlyMap<string, string>): boolean {
  if (CAPTURED_FS_TYPES.has(mount.fstype)) return true
  const declared = fstabTypes.get(mount.target)
  return mount.fstype.startsWith('fuse') && declared !== undefined && CAPTURED_FS_TYPES.has(declared)
}

/** `<mountpoint>/*` for every mounted file system whose content stays out (proc, sysfs, tmpfs, nfs ...). */
export function mountExcludes(mounts: readonly Mount[], fstabTypes: ReadonlyMap<string, string>): string[] {
  return [...new Set(mounts.filter((m) => m.target !== '/' && !isCaptured(m, fstabTypes)).map((m) => `${m.target.replace(/\/$/, '')}/*`))].sort()
}

/** The server's getimage.exclude (installed from our default the first time, then the administrator's to edit). */
export async function serverExcludes(systemimagerDir: string): Promise<string[]> {
  const path = join(systemimagerDir, 'getimage.exclude')
  if (!existsSync(path)) {
    await mkdir(systemimagerDir, { recursive: true })
    await copyFile(join(SHARE_SYSCLONE, 'getimage.exclude'), path)
  }
  return lines(await readFile(path, 'utf8'))
}

/** The identity files left out of an image unless scrubbing is turned off. */
export async function identityExcludes(): Promise<string[]> {
  return lines(await readFile(join(SHARE_SYSCLONE, 'identity.exclude'), 'utf8'))
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
}

/** The exclude file of a capture, in SystemImager's order: mounts, getimage.exclude, the user's, then identity. */
export function excludeFileContent(parts: { mounts: readonly string[]; server: readonly string[]; user: readonly string[]; identity: readonly string[] }): string {
  const section = (title: string, entries: readonly string[]) => (entries.length ? [`# ${title}`, ...entries] : [])
  return `${[
    ...section('file systems whose content is not captured', parts.mounts),
    ...section('getimage.exclude', parts.server),
    ...section('given to imgcapture', parts.user),
    ...section('identity of the golden client', parts.identity),
  ].join('\n')}\n`
}
