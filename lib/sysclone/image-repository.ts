import { existsSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { treeStore, type TreeStore } from './subvolume.js'

/** Another capture holds the image. */
export class ImageBusyError extends Error {}

/** Exclusive use of one image directory while it is captured. */
export interface ImageLock {
  /** The image's final place (linuximage.rootimgdir). */
  readonly path: string
  /** The tree the capture writes, inside a directory only root can enter; published only when it is complete. */
  readonly staging: string
  /** True when a previous image exists (the capture is an update). */
  readonly previous: boolean
  /**
   * True when the staging tree starts as a snapshot of the previous image (btrfs): the capture updates it in place.
   * Otherwise it starts empty and the capture seeds it from the previous image with hard links.
   */
  readonly snapshot: boolean
  /**
   * Replaces the published image with the staging tree in two renames. The replaced tree is then removed, and the lock
   * given up, in the background: see {@link imagesSettled}.
   */
  publish(): Promise<void>
  /** Removes the staging tree and gives up the lock, leaving the published image as it was. */
  abandon(): Promise<void>
}

/**
 * Removals of replaced trees still under way, by image path; each ends by giving up that image's lock. Kept on
 * globalThis: under a TypeScript loader one process may hold this module twice (required and imported), and both
 * copies must see the same removals.
 */
const retiring = ((globalThis as Record<symbol, unknown>)[Symbol.for('xcat-sysclone.image-retirements')] ??= new Map()) as Map<string, Promise<void>>

/** Resolves when every replaced image tree of this process is removed and its lock given up. */
export async function imagesSettled(): Promise<void> {
  await Promise.all(retiring.values())
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Names of the helper entries kept beside an image directory. */
function siblings(path: string): { lock: string; work: string; staging: string; previous: string } {
  const dir = dirname(path)
  const name = basename(path)
  const work = join(dir, `.${name}.staging`)
  return { lock: join(dir, `.${name}.lock`), work, staging: join(work, 'tree'), previous: join(dir, `.${name}.previous`) }
}

/**
 * Takes the capture lock of the image at `path` (refusing while another live capture holds it), puts back an image
 * that an interrupted publish left aside, and prepares the staging tree beside it: a snapshot of the previous image
 * when that is a btrfs subvolume, else an empty tree (a subvolume where btrfs allows, so the next one can snapshot).
 */
export async function lockImage(path: string, image: string, store: TreeStore = treeStore): Promise<ImageLock> {
  const { lock, work, staging, previous } = siblings(path)
  await retiring.get(path)
  await mkdir(dirname(path), { recursive: true })
  let handle
  for (let attempt = 0; !handle; attempt++) {
    try {
      handle = await open(lock, 'wx', 0o644)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      const [pid = '0', host = '', since = ''] = (await readFile(lock, 'utf8').catch(() => '')).trim().split(' ')
      if (host === hostname() && Number(pid) > 0 && alive(Number(pid))) {
        throw new ImageBusyError(`Another capture of osimage ${image} is in progress (process ${pid} on ${host} since ${since}).`)
      }
      await rm(lock, { force: true })
    }
  }
  await handle.writeFile(`${process.pid} ${hostname()} ${new Date().toISOString()}\n`)
  await handle.close()
  const release = () => rm(lock, { force: true })
  // An older layout kept the staging tree itself at `work`; removing the tree first and then `work` clears both.
  const removeStaging = async () => {
    await store.remove(staging)
    await store.remove(work)
  }
  try {
    if (!existsSync(path) && existsSync(previous)) await rename(previous, path)
    await removeStaging()
    await store.remove(previous)
  } catch (err) {
    await release()
    throw err
  }
  const hasPrevious = existsSync(path) && (await stat(path)).isDirectory()
  let snapshot = false
  try {
    // No other user can reach into the tree while rsync writes it, so rsync need not guard its paths against them.
    await mkdir(work, { mode: 0o700 })
    if (hasPrevious && (await store.isSubvolume(path))) {
      await store.snapshot(path, staging)
      snapshot = true
    } else if (await store.canSnapshot(dirname(path))) {
      await store.createSubvolume(staging)
    } else {
      await mkdir(staging, { mode: 0o755 })
    }
  } catch (err) {
    await removeStaging().catch(() => undefined)
    await release()
    throw err
  }
  return {
    path,
    staging,
    previous: hasPrevious,
    snapshot,
    async publish() {
      if (existsSync(path)) await rename(path, previous)
      await rename(staging, path)
      const retired = store
        .remove(work)
        .then(() => store.remove(previous))
        .finally(release)
        .catch(() => undefined)
        .finally(() => retiring.delete(path))
      retiring.set(path, retired)
    },
    async abandon() {
      await removeStaging()
      await release()
    },
  }
}
