import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PROJECT_ROOT } from './paths.js'

/** Our version, from package.json. */
export const VERSION: string = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version

/** The version line xCAT commands print for -v. */
export function versionString(): string {
  return `Version ${VERSION}`
}
