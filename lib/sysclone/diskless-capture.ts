import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from '../exec/command.js'
import { SshConnectError, SshSession } from '../exec/ssh.js'
import { PROJECT_ROOT } from '../paths.js'
import type { PluginContext } from '../server/plugin.js'

/** What the diskless capture needs from the plugin. */
export interface DisklessRequest {
  readonly node: string
  readonly address: string
  readonly identity: string | undefined
  readonly opts: Record<string, unknown>
}

/** The paths left out of a diskless capture when no exlist file applies (xCAT's defaults). */
const DEFAULT_EXLIST = ['./tmp/*', './proc/*', './sys/*', './dev/*', './xcatpost/*', './install/*']

/**
 * Streams the node's root tree as a gzip'd cpio archive, leaving out every `find -path` pattern given as an argument.
 * The patterns arrive as positional parameters and are turned into `! -path <p>` arguments inside the shell, so none of
 * them is ever parsed as shell text.
 */
const ARCHIVE_SCRIPT = 'cd / || exit 1; n=$#; for p; do set -- "$@" ! -path "$p"; done; shift "$n"; find . -xdev "$@" | cpio -H newc -o 2>/dev/null | gzip -c'

/** xCAT's platform directory name for an os (rh, centos, sles ...). */
export function platformOf(os: string): string | undefined {
  const table: [RegExp, string][] = [[/^rh/, 'rh'], [/^centos/, 'centos'], [/^alma/, 'alma'], [/^rocky/, 'rocky'], [/^fedora/, 'fedora'], [/^SL/, 'SL'], [/^sles/, 'sles'], [/^suse/, 'suse'], [/^ubuntu/, 'ubuntu'], [/^debian/, 'debian']]
  return table.find(([re]) => re.test(os))?.[1]
}

/** The first imgcapture exlist that exists for the image, as xCAT looks for it (custom directory first). */
async function exlist(installdir: string, platform: string, profile: string, os: string, arch: string): Promise<string[]> {
  const names = [`${profile}.${os}.${arch}.imgcapture.exlist`, `${profile}.${os}.imgcapture.exlist`, `${profile}.${arch}.imgcapture.exlist`, `${profile}.imgcapture.exlist`]
  for (const dir of [join(installdir, 'custom', 'netboot', platform), join(PROJECT_ROOT, 'share', 'xcat', 'netboot', platform)]) {
    for (const name of names) {
      const path = join(dir, name)
      if (existsSync(path)) return (await readFile(path, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    }
  }
  return DEFAULT_EXLIST
}

/** Unpacks a gzip'd cpio archive into `dir` (gzip -cd | cpio -idum, without a shell). */
function unpack(archive: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const gzip = spawn('gzip', ['-cd', archive], { stdio: ['ignore', 'pipe', 'ignore'] })
    const cpio = spawn('cpio', ['-idum', '--quiet'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] })
    let err = ''
    cpio.stderr.on('data', (d: Buffer) => (err += d.toString()))
    gzip.stdout.pipe(cpio.stdin)
    gzip.on('error', reject)
    cpio.on('error', reject)
    cpio.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cpio failed: ${err.trim()}`))))
  })
}

/**
 * xCAT's `imgcapture -t diskless`: the node's root tree (minus the exlist) into
 * `<installdir>/netboot/<os>/<arch>/<profile>/rootimg`, then genimage when it is installed.
 */
export async function captureDiskless(ctx: PluginContext, req: DisklessRequest): Promise<void> {
  const say = (text: string) => ctx.respond({ data: [text] })
  const fail = (text: string) => ctx.respond({ error: [text], errorcode: ['1'] })
  const nt = (await ctx.tables.getNodeAttribs('nodetype', req.node, ['os', 'arch', 'profile'])) ?? {}
  const os = nt.os ?? ''
  const arch = nt.arch ?? ''
  const profile = typeof req.opts.profile === 'string' ? req.opts.profile : (nt.profile ?? '')
  if (!os || !arch || !profile) return fail(`${req.node} needs nodetype.os, nodetype.arch and a profile (nodetype.profile or -p) for a diskless capture.`)
  const image = typeof req.opts.osimage === 'string' ? req.opts.osimage : undefined
  if (image) {
    const def = await ctx.tables.getAttribs('osimage', { imagename: image })
    if (!def) return fail(`Cannot find ${image} from the osimage table.`)
    if (!(await ctx.tables.getAttribs('linuximage', { imagename: image }))) return fail(`Cannot find ${image} from the linuximage table`)
    if (def.osvers !== os || def.osarch !== arch) return fail(`The 'osvers' or 'osarch' attribute of the "${image}" table doesn't match the node's attribute`)
  }
  const platform = platformOf(os)
  if (!platform) return fail(`Unable to find the netboot directory for ${os}`)
  let session: SshSession
  try {
    session = await SshSession.connect(req.address, req.identity ? { identity: req.identity } : {})
  } catch (err) {
    return fail(`Unable to reach ${req.node} (${req.address}) with ssh as root: ${err instanceof SshConnectError ? err.message : (err as Error).message}`)
  }
  const work = await mkdtemp(join(tmpdir(), 'xcat-imgcapture-'))
  try {
    const fs = (await session.run(['findmnt', '-n', '-o', 'FSTYPE', '--target', '/'])).stdout.trim()
    if (fs === 'nfs' || fs === 'tmpfs') return fail('This node might not be diskful Linux node, please check it.')
    for (const tool of ['find', 'cpio', 'gzip']) {
      if ((await session.run(['sh', '-c', 'command -v "$1" >/dev/null', 'sh', tool])).code !== 0) return fail(`${tool} is not installed on ${req.node}; install it there and capture again.`)
    }
    const installdir = (await ctx.tables.site('installdir')) || '/install'
    const patterns = await exlist(installdir, platform, profile, os, arch)
    say(`Capturing image on ${req.node}...`)
    const archive = join(work, 'rootimg.cpio.gz')
    const out = await session.runToFile(['sh', '-c', ARCHIVE_SCRIPT, 'sh', ...patterns], archive, { signal: ctx.signal })
    if (out.code !== 0) return fail(`Capturing the root tree of ${req.node} failed: ${out.stderr.trim() || `exit status ${out.code}`}`)
    const rootimg = join(installdir, 'netboot', os, arch, profile, 'rootimg')
    say(`Extracting the image to ${rootimg}`)
    await rm(rootimg, { recursive: true, force: true })
    await mkdir(rootimg, { recursive: true })
    await unpack(archive, rootimg)
    const genimage = join(process.env.XCATROOT || '/opt/xcat', 'share', 'xcat', 'netboot', platform, 'genimage')
    if (!existsSync(genimage)) return fail(`Can't run the "genimage" command for ${os}: genimage is not installed (${genimage} is missing). The root tree is in ${rootimg}.`)
    say('Generating kernel and initial ramdisks...')
    const args = image ? [join(process.env.XCATROOT || '/opt/xcat', 'bin', 'genimage'), image] : [genimage, '-o', os, '-a', arch, '-p', profile]
    if (typeof req.opts.i === 'string') args.push('-i', req.opts.i)
    if (typeof req.opts.n === 'string') args.push('-n', req.opts.n)
    const gen = await runCommand(args, { signal: ctx.signal })
    if (gen.code !== 0) return fail(gen.stdout.trim() || gen.stderr.trim() || `genimage failed with status ${gen.code}`)
    say('Done.')
  } finally {
    session.close()
    await rm(work, { recursive: true, force: true })
  }
}
