import { statfs, lstat } from 'node:fs/promises'
import { runCommand } from '../exec/command.js'

const BTRFS_SUPER_MAGIC = 0x9123683e
/** The inode number of the root directory of every btrfs subvolume. */
const SUBVOLUME_ROOT_INODE = 256

/** How image trees are made and removed where they live: btrfs subvolumes and snapshots, or plain directories. */
export interface TreeStore {
  /** True when `path` is the root of a btrfs subvolume. */
  isSubvolume(path: string): Promise<boolean>
  /** True when new trees in `dir` can be subvolumes (a btrfs file system and the btrfs program). */
  canSnapshot(dir: string): Promise<boolean>
  /** Makes an empty subvolume at `path`. */
  createSubvolume(path: string): Promise<void>
  /** Makes `target` a writable snapshot of the subvolume `source`: the same tree at once, sharing its blocks. */
  snapshot(source: string, target: string): Promise<void>
  /** Removes a tree, subvolume or directory, if it exists. */
  remove(path: string): Promise<void>
}

async function must(argv: readonly string[]): Promise<void> {
  const out = await runCommand(argv)
  if (out.code !== 0) throw new Error(`${argv.join(' ')}: ${out.stderr.trim() || `exit ${out.code}`}`)
}

const btrfs = (args: readonly string[]) => must(['btrfs', ...args])

async function onBtrfs(path: string): Promise<boolean> {
  try {
    return (await statfs(path)).type === BTRFS_SUPER_MAGIC
  } catch {
    return false
  }
}

let btrfsProgram: Promise<boolean> | undefined
function haveBtrfsProgram(): Promise<boolean> {
  btrfsProgram ??= runCommand(['btrfs', '--version']).then((o) => o.code === 0, () => false)
  return btrfsProgram
}

async function isSubvolume(path: string): Promise<boolean> {
  try {
    const st = await lstat(path)
    return st.isDirectory() && st.ino === SUBVOLUME_ROOT_INODE && (await onBtrfs(path))
  } catch {
    return false
  }
}

/** The store of the machine: subvolumes where the file system and the btrfs program allow them. */
export const treeStore: TreeStore = {
  isSubvolume,
  canSnapshot: async (dir) => (await onBtrfs(dir)) && (await haveBtrfsProgram()),
  createSubvolume: (path) => btrfs(['subvolume', 'create', path]),
  snapshot: (source, target) => btrfs(['subvolume', 'snapshot', source, target]),
  // rm in a process of its own: a tree of 100,000 files removed in this one would fill libuv's thread pool, and every
  // file operation of the daemon would wait behind it. It stays on the tree's file system, whatever is mounted inside.
  async remove(path) {
    if (await isSubvolume(path)) await btrfs(['subvolume', 'delete', path])
    else await must(['rm', '-rf', '--one-file-system', '--', path])
  },
}
