import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../paths.js'
import { writeFileAtomic } from './atomic-write.js'

/** The post-install scripts every clone runs, by their name in `<scripts>/post-install/`, from `postscripts/`. */
export const POST_INSTALL_SCRIPTS: ReadonlyMap<string, string> = new Map([
  ['10all.fix_swap_uuids', 'fix_swap_uuids'],
  ['11all.regen_identity', 'regen_identity'],
  ['15all.efibootloader', 'efibootloader'],
  ['16all.update_network', 'update_network'],
  ['17all.runxcatpost', 'runxcatpost'],
  ['20all.makeinitrd', 'makeinitrd'],
])

/** Where a postscript comes from: `<installdir>/postscripts/<name>`, else the one shipped with this package. */
export function postscriptSource(installdir: string, name: string): string | undefined {
  for (const dir of [join(installdir, 'postscripts'), join(PROJECT_ROOT, 'postscripts')]) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  return undefined
}

/**
 * mksysclone's script refresh: the post-install scripts copied fresh (a captured image may be old), SystemImager's
 * monitord_rebooted removed, and the management node's hosts file copied beside them. Returns the scripts not found.
 */
export async function refreshPostInstall(scriptsDir: string, installdir: string, hostsFile: string): Promise<string[]> {
  const dir = join(scriptsDir, 'post-install')
  await mkdir(dir, { recursive: true })
  const missing: string[] = []
  for (const [target, name] of POST_INSTALL_SCRIPTS) {
    const source = postscriptSource(installdir, name)
    if (!source) {
      missing.push(name)
      continue
    }
    const tmp = join(dir, `.${target}.${randomBytes(4).toString('hex')}.tmp`)
    await copyFile(source, tmp)
    await chmod(tmp, 0o755)
    await rename(tmp, join(dir, target))
  }
  await rm(join(dir, '95all.monitord_rebooted'), { force: true })
  if (existsSync(hostsFile)) await writeFileAtomic(join(scriptsDir, 'hosts'), await readFile(hostsFile))
  return missing
}
