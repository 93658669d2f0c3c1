import { existsSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'

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
 * that an interrupted publish left aside, and prepares an empty staging tree beside it.
 */
export async function lockImage(path: string, image: string): Promise<ImageLock> {
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
  if (!existsSync(path) && existsSync(previous)) await rename(previous, path)
  await rm(staging, { recursive: true, force: true })
  await rm(previous, { recursive: true, force: true })
  await mkdir(staging, { mode: 0o755 })
  const hasPrevious = existsSync(path) && (await stat(path)).isDirectory()
  const release = () => rm(lock, { force: true })
  return {
    path,
    staging,
    previous: hasPrevious,
    async publish() {
      if (existsSync(path)) await rename(path, previous)
      await rename(staging, path)
      await rm(previous, { recursive: true, force: true })
    },
    async abandon() {
      await rm(staging, { recursive: true, force: true })
      await release()
    },
    release,
  }
}
