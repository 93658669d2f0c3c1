import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'
import type { SyscloneDirs } from './paths.js'

/** SystemImager's default place for images, scripts and overrides, which xCAT moves under /install/sysclone. */
const SI_DEFAULT_DIR = '/var/lib/systemimager'

function header(dirs: SyscloneDirs): string {
  return [
    '# rsync daemon settings and the shared modules of the sysclone image server;',
    '# the files 40<image> in this directory add one module per image.',
    'list = yes',
    'timeout = 600',
    'dont compress = *.gz *.tgz *.zip *.Z *.ZIP *.bz2 *.deb *.rpm *.dbf',
    'uid = root',
    'gid = root',
    'use chroot = yes',
    'read only = yes',
    'log file = /var/log/systemimager/rsyncd',
    '',
    '[scripts]',
    `\tpath = ${dirs.scripts}`,
    '',
    '[overrides]',
    `\tpath = ${dirs.overrides}`,
    '',
    '',
  ].join('\n')
}

/** The rsync stub of one image, in SystemImager's format. */
export function imageStub(image: string, path: string): string {
  return `[${image}]\n\tpath=${path}\n\n`
}

/** Sets the SystemImager configuration keys that point at our directories, keeping every other line of the file. */
function systemimagerConf(existing: string | undefined, dirs: SyscloneDirs, imageDir: string): string {
  const wanted: Record<string, string> = {
    DEFAULT_IMAGE_DIR: imageDir,
    DEFAULT_OVERRIDE_DIR: dirs.overrides,
    AUTOINSTALL_SCRIPT_DIR: dirs.scripts,
    RSYNCD_CONF: join(dirs.systemimager, 'rsyncd.conf'),
    RSYNC_STUB_DIR: join(dirs.systemimager, 'rsync_stubs'),
  }
  const lines = (existing ?? '# SystemImager settings used by the sysclone image server\n').replaceAll(SI_DEFAULT_DIR, dirs.home).split('\n')
  const seen = new Set<string>()
  const out = lines.map((line) => {
    const key = /^\s*([A-Z_]+)\s*=/.exec(line)?.[1]
    if (!key || wanted[key] === undefined) return line
    seen.add(key)
    return `${key} = ${wanted[key]}`
  })
  while (out.length && out[out.length - 1] === '') out.pop()
  for (const [key, value] of Object.entries(wanted)) if (!seen.has(key)) out.push(`${key} = ${value}`)
  return `${out.join('\n')}\n`
}

/** SystemImager's gen_rsyncd_conf: every stub whose name starts with digits (not ending in ~ or .bak), in name order. */
export async function regenerateRsyncdConf(dirs: SyscloneDirs): Promise<string> {
  const stubDir = join(dirs.systemimager, 'rsync_stubs')
  const names = (await readdir(stubDir)).filter((n) => /^\d+/.test(n) && !n.endsWith('~') && !n.endsWith('.bak')).sort()
  const parts = await Promise.all(names.map((n) => readFile(join(stubDir, n), 'utf8')))
  const conf = parts.join('')
  await writeFileAtomic(join(dirs.systemimager, 'rsyncd.conf'), conf)
  return conf
}

/**
 * Prepares the image server for `image` kept at `imagePath`: the /install/sysclone tree, systemimager.conf, the rsync
 * stubs (10header, 40<image>) and rsyncd.conf, as xCAT's imgcapture left them after SystemImager's tools.
 */
export async function configureImageServer(dirs: SyscloneDirs, image: string, imagePath: string): Promise<void> {
  for (const dir of [dirs.home, dirs.images, dirs.scripts, dirs.overrides]) await mkdir(dir, { recursive: true })
  await mkdir(join(dirs.scripts, 'pre-install'), { recursive: true })
  await mkdir(join(dirs.scripts, 'post-install'), { recursive: true })
  const stubDir = join(dirs.systemimager, 'rsync_stubs')
  await mkdir(stubDir, { recursive: true })
  const confPath = join(dirs.systemimager, 'systemimager.conf')
  const existing = existsSync(confPath) ? await readFile(confPath, 'utf8') : undefined
  await writeFileAtomic(confPath, systemimagerConf(existing, dirs, dirname(imagePath)))
  const headerPath = join(stubDir, '10header')
  const currentHeader = existsSync(headerPath) ? await readFile(headerPath, 'utf8') : undefined
  await writeFileAtomic(headerPath, currentHeader ? currentHeader.replaceAll(SI_DEFAULT_DIR, dirs.home) : header(dirs))
  await writeFileAtomic(join(stubDir, `40${image}`), imageStub(image, imagePath))
  await regenerateRsyncdConf(dirs)
}
