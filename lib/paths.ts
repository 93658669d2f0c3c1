import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(start: string): string {
  let dir = start
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) return start
    dir = parent
  }
  return dir
}

/** The installed project's top directory (holding package.json, share/ and postscripts/), from source or dist. */
export const PROJECT_ROOT: string = findRoot(dirname(fileURLToPath(import.meta.url)))
