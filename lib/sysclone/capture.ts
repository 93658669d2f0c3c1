import { setMaxListeners } from 'node:events'
import { existsSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSshMaster, type SshMaster } from '../exec/ssh-master.js'
import type { Tables } from '../table/tables.js'
import { excludeFileContent, identityExcludes, mountExcludes, SHARE_SYSCLONE, serverExcludes, type Mount } from './capture-excludes.js'
import { configureImageServer } from './image-server.js'
import { lockImage } from './image-repository.js'
import { collectLayout } from './layout/collect.js'
import type { Layout, Probe } from './layout/model.js'
import { toAutoinstallConf } from './layout/si-conf.js'
import { installMasterScript, masterScriptPath, renderMasterScript } from './master-script.js'
import { defineSyscloneImage, type DefinitionOutcome } from './osimage-def.js'
import { osVersion } from './os-version.js'
import type { SyscloneDirs } from './paths.js'
import { rsyncHasInsecureLinks, rsyncPull, type TransferProgress, type TransferStats } from './rsync-pull.js'

/** A capture that cannot go on; the message is what the administrator reads. */
export class CaptureError extends Error {}

/** What one capture needs. */
export interface CaptureRequest {
  readonly node: string
  readonly image: string
  readonly tables: Tables
  readonly dirs: SyscloneDirs
  /** Where the node is reached: hosts.ip, else its name. */
  readonly address: string
  readonly identity: string | undefined
  /** Extra rsync exclude patterns given by the administrator. */
  readonly excludes: readonly string[]
  /** Leave out host keys, machine-id, leases (on unless turned off). */
  readonly scrub: boolean
  readonly signal: AbortSignal
  readonly say: (text: string) => void
  readonly progress: (p: TransferProgress) => void
}

/** What a capture did. */
export interface CaptureResult {
  readonly path: string
  readonly update: boolean
  readonly stats: TransferStats
  readonly layout: Layout
  readonly definition: DefinitionOutcome
  readonly osvers: string
  readonly arch: string
}

/** A Probe over an SSH connection: commands as argument arrays, files read with cat. */
export function sshProbe(session: Pick<SshMaster, 'run'>, signal?: AbortSignal): Probe {
  const opts = signal ? { signal } : {}
  return {
    run: (argv) => session.run(argv, opts),
    readFile: async (path) => {
      const out = await session.run(['cat', path], opts)
      return out.code === 0 ? out.stdout : undefined
    },
    exists: async (path) => (await session.run(['test', '-e', path], opts)).code === 0,
  }
}

/** SystemImager's IMAGE_RETRIEVAL_TIME: YYYY.MM.DD HH:MM, local time. */
export function retrievalTime(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}.${p(date.getMonth() + 1)}.${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}`
}

/** What the capture learns of the golden client's mounts before the copy. */
interface Mounts {
  readonly mounts: Mount[]
  readonly fstabTypes: Map<string, string>
  readonly mountText: string
}

/**
 * The golden client's checks before anything is copied (reachable as root, root file system on a disk, rsync there)
 * and its mounts, read in one round of commands over the connection.
 */
async function preflight(req: CaptureRequest, ssh: SshMaster, probe: Probe): Promise<Mounts> {
  const why = await ssh.connected()
  if (why !== undefined) throw new CaptureError(`Unable to reach ${req.node} (${req.address}) with ssh as root: ${why}`)
  const [root, rsync, findmnt, fstab, mount] = await Promise.all([
    probe.run(['findmnt', '-n', '-o', 'FSTYPE', '--target', '/']),
    probe.run(['rsync', '--version']),
    probe.run(['findmnt', '-J', '-l', '-o', 'TARGET,SOURCE,FSTYPE']),
    probe.readFile('/etc/fstab'),
    probe.run(['mount']),
  ])
  const fs = root.stdout.trim()
  if (/^(nfs\d?|tmpfs|ramfs|overlay|squashfs)$/.test(fs)) {
    throw new CaptureError(`The root file system of ${req.node} is ${fs}: ${req.node} might not be a diskful Linux node, please check it.`)
  }
  if (rsync.code !== 0) throw new CaptureError(`rsync is not installed on ${req.node}; install it there and capture again.`)
  const json = JSON.parse(findmnt.stdout || '{"filesystems":[]}') as { filesystems?: Mount[] }
  const fstabTypes = new Map<string, string>()
  for (const line of fstab?.split('\n') ?? []) {
    const f = line.trim().split(/\s+/)
    if (f.length >= 3 && !f[0]?.startsWith('#') && f[1]) fstabTypes.set(f[1], f[2] ?? '')
  }
  return { mounts: json.filesystems ?? [], fstabTypes, mountText: mount.stdout }
}

/** Writes SystemImager's files under the image's etc/systemimager, and the layout's JSON twin. */
async function writeImageMetadata(root: string, req: CaptureRequest, layout: Layout, mountText: string): Promise<void> {
  const etc = join(root, 'etc')
  const etcTimes = await stat(etc)
  const si = join(root, 'etc', 'systemimager')
  await mkdir(si, { recursive: true })
  await writeFile(join(si, 'autoinstallscript.conf'), toAutoinstallConf(layout))
  await writeFile(join(si, 'layout.json'), `${JSON.stringify(layout, null, 2)}\n`)
  await writeFile(join(si, 'mounted_filesystems'), mountText)
  await writeFile(join(si, 'IMAGE_RETRIEVAL_TIME'), `${retrievalTime()}\n`)
  await writeFile(join(si, 'IMAGE_RETRIEVED_FROM'), `${req.node}\n`)
  const exclude = join(si, 'updateclient.local.exclude')
  if (!existsSync(exclude)) await writeFile(exclude, await readFile(join(SHARE_SYSCLONE, 'updateclient.local.exclude')))
  const mtab = join(root, 'etc', 'mtab')
  if (existsSync(mtab) && (await lstat(mtab)).isFile()) await truncate(mtab, 0)
  if (req.scrub && !existsSync(join(root, 'etc', 'machine-id'))) await writeFile(join(root, 'etc', 'machine-id'), '')
  // What we add must not make /etc itself look changed: the next capture's link-dest and update comparisons see it.
  await utimes(etc, etcTimes.atime, etcTimes.mtime)
}

/** The image's master script (pulled with ACLs and xattrs, as captured); undefined, said why, when the layout has none. */
function masterScriptFor(req: CaptureRequest, layout: Layout): string | undefined {
  try {
    return renderMasterScript(layout, { imageName: req.image, imageFeatures: { acls: true, xattrs: true } })
  } catch (err) {
    req.say(`Warning: no master script for ${req.image}: ${(err as Error).message}; nodes cannot be installed from it.`)
    return undefined
  }
}

/**
 * Captures the golden client into its sysclone image: image server set-up, preflight over SSH, disk layout, an rsync
 * pull into a staging tree seeded from the previous image, SystemImager's metadata, then an atomic publish and the
 * osimage definition. A failure or an abort leaves the previous image as it was.
 */
export async function captureSysclone(req: CaptureRequest, imagePath: string): Promise<CaptureResult> {
  // Every remote command listens for the abort; a capture runs a few dozen of them.
  setMaxListeners(100, req.signal)
  await configureImageServer(req.dirs, req.image, imagePath)
  req.say(`Checking ${req.node} before the capture.`)
  const work = await mkdtemp(join(tmpdir(), 'xcat-capture-'))
  // One connection for the checks, the layout and rsync's ssh.
  const ssh = startSshMaster(req.address, req.identity, join(work, 'ssh'))
  // Ends the node's commands still running when the capture ends early.
  const finished = new AbortController()
  const probe = sshProbe(ssh, AbortSignal.any([req.signal, finished.signal]))
  const fixedExcludes = Promise.all([serverExcludes(req.dirs.systemimager), req.scrub ? identityExcludes() : []])
  fixedExcludes.catch(() => undefined)
  let lock
  try {
    const { mounts, fstabTypes, mountText } = await preflight(req, ssh, probe)
    lock = await lockImage(imagePath, req.image)
    const excludeFile = join(work, 'exclude')
    const [server, identity] = await fixedExcludes
    await writeFile(excludeFile, excludeFileContent({ mounts: mountExcludes(mounts, fstabTypes), server, user: req.excludes, identity }))
    req.say(`Capturing image on ${req.node}...`)
    const pull = rsyncPull({
      host: req.address,
      identity: req.identity,
      source: '/',
      destination: lock.staging,
      excludeFile,
      ...(lock.previous && !lock.snapshot ? { linkDest: imagePath } : {}),
      trustedPaths: await rsyncHasInsecureLinks(),
      xattrs: true,
      sshOptions: ssh.clientOptions,
      signal: req.signal,
      onProgress: req.progress,
    })
    pull.catch(() => undefined)
    // The layout and the system facts are read while the tree is being copied; they are only needed afterwards.
    const facts = Promise.all([
      collectLayout(probe),
      probe.run(['uname', '-m']),
      probe.run(['sh', '-c', 'cat /etc/*-release 2>/dev/null']),
      probe.readFile('/etc/os-release'),
    ])
    facts.catch(() => undefined)
    const stats = await pull
    const [layout, uname, releaseFile, osRelease] = await facts
    const arch = uname.stdout.trim()
    const osvers = osVersion(osRelease, releaseFile.stdout)
    await writeImageMetadata(lock.staging, req, layout, mountText)
    const master = masterScriptFor(req, layout)
    if (req.signal.aborted) throw new CaptureError('The capture was interrupted.')
    await lock.publish()
    if (master !== undefined) await installMasterScript(req.dirs, req.image, master)
    else await rm(masterScriptPath(req.dirs, req.image), { force: true })
    const definition = await defineSyscloneImage(req.tables, req.image, { node: req.node, osvers, arch, rootimgdir: imagePath })
    return { path: imagePath, update: lock.previous, stats, layout, definition, osvers, arch }
  } catch (err) {
    await lock?.abandon()
    throw err
  } finally {
    finished.abort()
    ssh.close()
    await rm(work, { recursive: true, force: true })
  }
}

/** The image's directory: linuximage.rootimgdir when the osimage has one, else `<installdir>/sysclone/images/<img>`. */
export async function imageDirectory(tables: Tables, dirs: SyscloneDirs, image: string): Promise<string> {
  const defined = (await tables.getAttribs('linuximage', { imagename: image }))?.rootimgdir
  return defined || join(dirs.images, image)
}

