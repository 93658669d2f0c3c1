import { join } from 'node:path'
import type { Tables } from '../table/tables.js'

/** Where sysclone keeps its files on the image server. */
export interface SyscloneDirs {
  /** `<installdir>/sysclone` */
  readonly home: string
  readonly images: string
  readonly scripts: string
  readonly overrides: string
  /** `<sysconfdir>/systemimager`: systemimager.conf, rsync_stubs/, rsyncd.conf. */
  readonly systemimager: string
}

/** The system configuration directory: XCAT_SYSCONFDIR (tests point it at a temporary place), else /etc. */
export function sysconfDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XCAT_SYSCONFDIR || '/etc'
}

/** The sysclone directories under site.installdir (default /install). */
export async function syscloneDirs(tables: Tables, env: NodeJS.ProcessEnv = process.env): Promise<SyscloneDirs> {
  const installdir = (await tables.site('installdir')) || '/install'
  const home = join(installdir, 'sysclone')
  return { home, images: join(home, 'images'), scripts: join(home, 'scripts'), overrides: join(home, 'overrides'), systemimager: join(sysconfDir(env), 'systemimager') }
}

/** Image names become directory and rsync module names: letters, digits, '.', '_', '-' and '+', not starting with '.'. */
export function isSafeImageName(name: string): boolean {
  return /^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,127}$/.test(name)
}
