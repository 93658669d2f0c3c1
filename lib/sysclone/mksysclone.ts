import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bootParamsOf, nodeBootParams, type BootParamsHash } from '../boot/bootparams.js'
import { ipFacing, localIpv4Addresses, maskPrefix } from '../boot/facing-ip.js'
import { genesisFinder } from '../boot/genesis.js'
import { parseMacEntry } from '../boot/net.js'
import { netBootParams } from '../boot/net-boot-params.js'
import type { PluginContext, XcatPlugin } from '../server/plugin.js'
import { all } from '../protocol/types.js'
import { nodeErrorResponse } from '../server/respond.js'
import type { Row } from '../table/driver.js'
import { KeyedLock } from '../table/keyed-lock.js'
import { writeFileAtomic } from './atomic-write.js'
import { updateClusterTxt } from './cluster-txt.js'
import { imageStub, regenerateRsyncdConf } from './image-server.js'
import { masterScriptPath, regenerateMasterScript } from './master-script.js'
import { isSafeImageName, syscloneDirs, sysconfDir, type SyscloneDirs } from './paths.js'
import { postscriptSource, refreshPostInstall } from './post-install.js'
import { ensureImageRsyncDaemon } from './rsync-daemon.js'

const LEGACY = new Set(['install', 'netboot', 'statelite'])
/** One mksysclone at a time rewrites a scripts directory (the boot plugins of one nodeset run in parallel). */
const SCRIPTS_LOCK = new KeyedLock()

/** Where mksysclone finds what it does not read from the tables. */
export interface MksyscloneOptions {
  readonly env?: NodeJS.ProcessEnv
  /** The rsync daemon's port (default 873) and state directory, for servers that run several. */
  readonly rsyncPort?: number | undefined
  readonly rsyncStateDir?: string | undefined
}

/** The rsync daemon settings of {@link MksyscloneOptions} from XCAT_SYSCLONE_RSYNC_PORT and XCAT_SYSCLONE_RSYNC_STATEDIR. */
export function mksyscloneOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): MksyscloneOptions {
  const port = Number(env.XCAT_SYSCLONE_RSYNC_PORT)
  return { env, rsyncPort: Number.isInteger(port) && port > 0 ? port : undefined, rsyncStateDir: env.XCAT_SYSCLONE_RSYNC_STATEDIR || undefined }
}

/** One sysclone image served to nodes. */
interface ServedImage {
  readonly name: string
  readonly path: string
  readonly arch: string
}

/** The images of the nodes, checked: the image path exists; errors name the nodes they stop. */
async function resolveImages(ctx: PluginContext, dirs: SyscloneDirs, names: readonly string[]): Promise<Map<string, ServedImage | string>> {
  const [images, linux] = await Promise.all([
    ctx.tables.getRowsIn('osimage', 'imagename', [...names], ['imagename', 'osvers', 'osarch', 'provmethod']),
    ctx.tables.getRowsIn('linuximage', 'imagename', [...names], ['imagename', 'rootimgdir']),
  ])
  const byName = new Map(images.map((r) => [r.imagename ?? '', r]))
  const dirOf = new Map(linux.map((r) => [r.imagename ?? '', r.rootimgdir ?? '']))
  const result = new Map<string, ServedImage | string>()
  for (const name of names) {
    const row = byName.get(name)
    if (!row) {
      result.set(name, `The os image ${name} does not exists on the osimage table`)
      continue
    }
    if (!isSafeImageName(name)) {
      result.set(name, `The osimage name ${name} cannot be served: use letters, digits, '.', '_', '+' and '-'`)
      continue
    }
    let path = dirOf.get(name)
    if (!path) {
      path = join(dirs.images, name)
      if (existsSync(path)) await ctx.tables.setAttribs('linuximage', { imagename: name }, { rootimgdir: path })
    }
    if (!existsSync(join(path, 'etc'))) {
      result.set(name, `The image directory ${path} of osimage ${name} does not exist or holds no image; capture it with "imgcapture <node> -t sysclone -o ${name}"`)
      continue
    }
    result.set(name, { name, path, arch: row.osarch ?? '' })
  }
  return result
}

/** Every sysclone image defined, for the rsync daemon's modules (a nodeset for one image keeps the others served). */
async function allSyscloneImages(ctx: PluginContext, dirs: SyscloneDirs): Promise<{ name: string; path: string }[]> {
  const images = (await ctx.tables.getAllEntries('osimage', { columns: ['imagename', 'provmethod'] })).filter((r) => r.provmethod === 'sysclone' && r.imagename && isSafeImageName(r.imagename))
  const names = images.map((r) => r.imagename ?? '')
  const linux = new Map((await ctx.tables.getRowsIn('linuximage', 'imagename', names, ['imagename', 'rootimgdir'])).map((r) => [r.imagename ?? '', r.rootimgdir ?? '']))
  return names.map((name) => ({ name, path: linux.get(name) || join(dirs.images, name) })).filter((i) => existsSync(i.path))
}

/** `hosts allow` for the image modules: the networks table, else the local subnets facing the nodes, else their IPs. */
async function allowedHosts(ctx: PluginContext, nodes: readonly string[]): Promise<string[]> {
  const nets = (await ctx.tables.getAllEntries('networks', { columns: ['net', 'mask'] })).flatMap((r) => (r.net && r.mask && maskPrefix(r.mask) !== undefined ? [`${r.net}/${maskPrefix(r.mask)}`] : []))
  if (nets.length > 0) return [...new Set(nets)]
  const ips = await ctx.tables.getNodesAttribs('hosts', nodes, ['ip'])
  const local = localIpv4Addresses()
  const allow = new Set<string>()
  for (const node of nodes) {
    const ip = ips.get(node)?.ip
    if (!ip) continue
    const facing = ipFacing(ip, local)
    const prefix = local.find((a) => a.address === facing)?.prefix
    allow.add(facing && prefix !== undefined ? `${facing}/${prefix}` : ip)
  }
  return [...allow]
}

/** The image's rsync stub points at its directory, SystemImager's rsyncd.conf regenerated when it did not. */
async function fixRsyncStub(dirs: SyscloneDirs, image: ServedImage): Promise<boolean> {
  const stub = join(dirs.systemimager, 'rsync_stubs', `40${image.name}`)
  const wanted = imageStub(image.name, image.path)
  const current = existsSync(stub) ? await readFile(stub, 'utf8') : undefined
  if (current === wanted) return false
  await writeFileAtomic(stub, wanted)
  return true
}

/**
 * The image's master script, rendered again from the layout.json capture stored in the image (the installer and
 * its function library may be newer than the capture). An image without layout.json keeps the master script it has.
 * Returns why the image cannot be installed, if it cannot.
 */
async function refreshMasterScript(dirs: SyscloneDirs, image: ServedImage): Promise<string | undefined> {
  if (!existsSync(join(image.path, 'etc', 'systemimager', 'layout.json'))) {
    return existsSync(masterScriptPath(dirs, image.name)) ? undefined : `The image ${image.name} has no disk layout (etc/systemimager/layout.json) and ${masterScriptPath(dirs, image.name)} does not exist; capture it again with imgcapture`
  }
  try {
    await regenerateMasterScript(dirs, image.name, image.path, { imageFeatures: { acls: true, xattrs: true } })
    return undefined
  } catch (err) {
    return `Cannot write the master script of image ${image.name}: ${err instanceof Error ? err.message : String(err)}`
  }
}

/** `xcatdsklspost` in the image's opt/xcat/, as xCAT's sysclone expects it on every clone. */
async function placeDsklspost(installdir: string, image: ServedImage): Promise<void> {
  const target = join(image.path, 'opt', 'xcat', 'xcatdsklspost')
  const source = postscriptSource(installdir, 'xcatdsklspost')
  if (existsSync(target) || !source) return
  await mkdir(join(image.path, 'opt', 'xcat'), { recursive: true })
  await copyFile(source, target)
}

/** The sysclone kernel command line of xCAT's anaconda mksysclone. */
function syscloneKcmdline(arch: string, net: ReturnType<typeof netBootParams>, hm: Row | undefined, master: string, port: string, image: string): string {
  let k = `ramdisk_size=200000 ${net.ksdevice ?? ''} `
  if (/ppc/.test(arch)) k += ` ${net.BOOTIF ?? ''} `
  if (hm?.serialport != null) {
    k += ` cmdline console=tty0 console=ttyS${hm.serialport},${hm.serialspeed}`
    if (/(hard|cts|ctsrts)/.test(hm.serialflow ?? '')) k += 'n8r'
  }
  return `${k} XCAT=${master}:${port} xcatd=${master}:${port} SCRIPTNAME=${image}`
}

/**
 * xCAT's mksysclone: genesis boot parameters for each node (into `bootparams`), cluster.txt, the post-install
 * scripts, the image rsync stubs and the rsync daemon serving the images. Node problems are node errors.
 */
export async function mksysclone(ctx: PluginContext, nodes: readonly string[], bootparams: BootParamsHash, options: MksyscloneOptions = {}): Promise<void> {
  const env = options.env ?? process.env
  const [types, res, hm, macs, port, siteMaster, installdirSite, siteTftpdir, disableWarning] = await Promise.all([
    ctx.tables.getNodesAttribs('nodetype', nodes, ['os', 'arch', 'provmethod']),
    ctx.tables.getNodesAttribs('noderes', nodes, ['xcatmaster', 'tftpdir', 'primarynic', 'installnic']),
    ctx.tables.getNodesAttribs('nodehm', nodes, ['serialport', 'serialspeed', 'serialflow']),
    ctx.tables.getNodesAttribs('mac', nodes, ['mac']),
    ctx.tables.site('xcatdport'),
    ctx.tables.site('master'),
    ctx.tables.site('installdir'),
    ctx.tables.site('tftpdir'),
    ctx.tables.site('disablenodesetwarning'),
  ])
  if (nodes.some((n) => LEGACY.has(types.get(n)?.provmethod ?? '')) && (!disableWarning || /no|0/i.test(disableWarning))) {
    ctx.respond({ error: ['The options "install", "netboot", and "statelite" have been deprecated, use "nodeset <noderange> osimage=<osimage_name>" instead.'], errorcode: ['1'] })
    return
  }
  const installdir = installdirSite || '/install'
  const dirs = await syscloneDirs(ctx.tables, env)
  const imageNames = [...new Set(nodes.map((n) => types.get(n)?.provmethod ?? '').filter(Boolean))]
  const images = await resolveImages(ctx, dirs, imageNames)
  const find = genesisFinder()
  const assigned = new Map<string, ServedImage>()
  for (const node of nodes) {
    const fail = (message: string) => ctx.respond(nodeErrorResponse(node, message))
    const image = images.get(types.get(node)?.provmethod ?? '')
    if (!image || typeof image === 'string') {
      fail(image ?? 'OS image name must be specified in nodetype.provmethod')
      continue
    }
    const arch = image.arch || types.get(node)?.arch || ''
    const tftpdir = res.get(node)?.tftpdir || siteTftpdir || '/tftpboot'
    const serial = hm.get(node)
    if (serial?.serialport != null && !serial.serialspeed) {
      fail(`serialport defined, but no serialspeed for ${node} in nodehm table`)
      continue
    }
    const genesis = arch ? await find(tftpdir, arch) : undefined
    if (!genesis) {
      fail(`Kernel and initrd not found in ${tftpdir}/xcat`)
      continue
    }
    const master = res.get(node)?.xcatmaster || siteMaster || ''
    const net = netBootParams(res.get(node)?.installnic ?? undefined, res.get(node)?.primarynic ?? undefined, parseMacEntry(macs.get(node)?.mac ?? '', node))
    Object.assign(nodeBootParams(bootparams, node), { kernel: genesis.kernel, initrd: genesis.initrd, kcmdline: syscloneKcmdline(arch, net, serial, master, port || '3001', image.name) })
    assigned.set(node, image)
  }
  if (assigned.size === 0) return
  const release = await SCRIPTS_LOCK.acquire([dirs.scripts])
  try {
    await prepareImageServer(ctx, { dirs, installdir, env, assigned, options })
  } finally {
    release()
  }
}

/** The image server side of mksysclone, one request at a time per scripts directory. */
async function prepareImageServer(ctx: PluginContext, p: { dirs: SyscloneDirs; installdir: string; env: NodeJS.ProcessEnv; assigned: Map<string, ServedImage>; options: MksyscloneOptions }): Promise<void> {
  const { dirs, installdir, assigned, options } = p
  const missing = await refreshPostInstall(dirs.scripts, installdir, join(sysconfDir(p.env), 'hosts'))
  if (missing.length) ctx.respond({ warning: [`Post-install scripts not found in ${join(installdir, 'postscripts')}: ${missing.join(', ')}`] })
  let stubsChanged = false
  for (const image of new Set(assigned.values())) {
    if (await fixRsyncStub(dirs, image)) stubsChanged = true
    await placeDsklspost(installdir, image)
    const problem = await refreshMasterScript(dirs, image)
    if (problem) {
      for (const [node, served] of assigned) if (served === image) ctx.respond(nodeErrorResponse(node, problem))
      for (const [node, served] of [...assigned]) if (served === image) assigned.delete(node)
    }
  }
  if (assigned.size === 0) return
  await updateClusterTxt(join(dirs.scripts, 'cluster.txt'), new Map([...assigned].map(([node, image]) => [node, image.name])))
  if (stubsChanged && existsSync(join(dirs.systemimager, 'rsync_stubs'))) await regenerateRsyncdConf(dirs)
  try {
    const where = { ...(options.rsyncPort ? { port: options.rsyncPort } : {}), ...(options.rsyncStateDir ? { stateDir: options.rsyncStateDir } : {}) }
    await ensureImageRsyncDaemon({ dirs, images: await allSyscloneImages(ctx, dirs), allow: await allowedHosts(ctx, [...assigned.keys()]), log: ctx.log, ...where })
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    for (const node of assigned.keys()) ctx.respond(nodeErrorResponse(node, `The rsync daemon serving the sysclone images could not be started: ${reason}`))
  }
}

/** The sysclone part of an OS plugin (anaconda, sles, debian): mksysclone for the nodes whose nodetype.os matches. */
export function mksyscloneHandler(name: string, osRegex: string): XcatPlugin {
  return {
    name,
    handledCommands: () => ({ mksysclone: `nodetype:os=${osRegex}` }),
    async processRequest(req, ctx) {
      await mksysclone(ctx, all(req.node), bootParamsOf(req), mksyscloneOptionsFromEnv())
    },
  }
}
