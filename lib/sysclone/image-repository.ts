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
  /** The tree the capture writes; published only when it is complete. */
  readonly staging: string
  /** True when a previous image exists (the capture is an update). */
  readonly previous: boolean
  /**
   * True when the staging tree starts as a snapshot of the previous image (btrfs): the capture updates it in place.
   * Otherwise it starts empty and the capture seeds it from the previous image with hard links.
   */
  readonly snapshot: boolean
  /** Replaces the published image with the staging tree, in two renames, and removes the old tree. */
  publish(): Promise<void>
  /** Removes the staging tree and gives up the lock, leaving the published image as it was. */
  abandon(): Promise<void>
  release(): Promise<void>
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
function siblings(path: string): { lock: string; staging: string; previous: string } {
  const dir = dirname(path)
  const name = basename(path)
  return { lock: join(dir, `.${name}.lock`), staging: join(dir, `.${name}.staging`), previous: join(dir, `.${name}.previous`) }
}

/**
 * Takes the capture lock of the image at `path` (refusing while another live capture holds it), puts back an image
 * that an interrupted publish left aside, and prepares the staging tree beside it: a snapshot of the previous image
 * when that is a btrfs subvolume, else an empty tree (a subvolume where btrfs allows, so the next one can snapshot).
 */
export async function lockImage(path: string, image: string, store: TreeStore = treeStore): Promise<ImageLock> {
  const { lock, staging, previous } = siblings(path)
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
  try {
    if (!existsSync(path) && existsSync(previous)) await rename(previous, path)
    await store.remove(staging)
    await store.remove(previous)
  } catch (err) {
    await release()
    throw err
  }
  const hasPrevious = existsSync(path) && (await stat(path)).isDirectory()
  let snapshot = false
  try {
    if (hasPrevious && (await store.isSubvolume(path))) {
      await store.snapshot(path, staging)
      snapshot = true
    } else if (await store.canSnapshot(dirname(path))) {
      await store.createSubvolume(staging)
    } else {
      await mkdir(staging, { mode: 0o755 })
    }
  } catch (err) {
    await store.remove(staging).catch(() => undefined)
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
      await store.remove(previous)
    },
    async abandon() {
      await store.remove(staging)
      await release()
    },
    release,
  }
}
