import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Fills `dir` with `files` files of mixed sizes adding up to about `totalMb` (many small, some medium, a few large). */
export function generate(dir: string, files: number, totalMb: number): void {
  const large = Math.floor(files / 200)
  const medium = Math.floor(files / 20)
  const small = files - large - medium
  const largeBytes = Math.floor((totalMb * 1024 * 1024 * 0.6) / Math.max(1, large))
  const mediumBytes = Math.floor((totalMb * 1024 * 1024 * 0.3) / Math.max(1, medium))
  const seed = randomBytes(Math.max(largeBytes, mediumBytes, 64 * 1024))
  const put = (path: string, bytes: number, salt: number) => {
    const body = Buffer.from(seed.subarray(0, bytes))
    body.writeUInt32LE(salt, 0)
    writeFileSync(path, body)
  }
  for (let i = 0; i < files; i++) {
    const kind = i < small ? 's' : i < small + medium ? 'm' : 'l'
    const sub = join(dir, `${kind}${Math.floor(i / 1000)}`)
    if (i % 1000 === 0 || !existsSync(sub)) mkdirSync(sub, { recursive: true })
    put(join(sub, `f${i}`), kind === 's' ? ((i % 8) + 1) * 1024 : kind === 'm' ? mediumBytes : largeBytes, i)
  }
}

/** Empties the page cache so that every timed run reads the golden client's disk, whichever ran before. */
export function dropCaches(): void {
  execFileSync('sync')
  writeFileSync('/proc/sys/vm/drop_caches', '3\n')
}
