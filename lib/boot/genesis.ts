import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** The genesis kernel and initrd, relative to the tftp directory (`xcat/genesis.kernel.x86_64`). */
export interface GenesisFiles {
  readonly kernel: string
  readonly initrd: string
}

/** The architecture genesis files are named after: ppc64le/ppc64el use the ppc64 ones. */
export function genesisArch(arch: string): string {
  return arch === 'ppc64le' || arch === 'ppc64el' ? 'ppc64' : arch
}

async function changed(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ctimeMs
  } catch {
    return undefined
  }
}

/**
 * Finds `xcat/genesis.kernel.<arch>` and its initrd under `tftpdir`: `genesis.fs.<arch>.lzma` or `.gz` (the newer
 * when both exist, as xCAT's destiny picks), else any other `genesis.fs.<arch>.*`. Undefined when either is missing.
 */
export async function findGenesis(tftpdir: string, arch: string): Promise<GenesisFiles | undefined> {
  const dir = join(tftpdir, 'xcat')
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return undefined
  }
  const kernel = `genesis.kernel.${arch}`
  if (!names.includes(kernel)) return undefined
  const [lzma, gz] = await Promise.all([`genesis.fs.${arch}.lzma`, `genesis.fs.${arch}.gz`].map((n) => (names.includes(n) ? changed(join(dir, n)) : undefined)))
  let initrd: string | undefined
  if (lzma !== undefined && gz !== undefined) initrd = lzma < gz ? `genesis.fs.${arch}.gz` : `genesis.fs.${arch}.lzma`
  else if (lzma !== undefined) initrd = `genesis.fs.${arch}.lzma`
  else if (gz !== undefined) initrd = `genesis.fs.${arch}.gz`
  else initrd = names.filter((n) => n.startsWith(`genesis.fs.${arch}.`)).sort()[0]
  return initrd ? { kernel: `xcat/${kernel}`, initrd: `xcat/${initrd}` } : undefined
}

/** {@link findGenesis} with one directory read per tftp directory and architecture for a whole request. */
export function genesisFinder(): (tftpdir: string, arch: string) => Promise<GenesisFiles | undefined> {
  const cache = new Map<string, Promise<GenesisFiles | undefined>>()
  return (tftpdir, arch) => {
    const key = `${tftpdir}\0${arch}`
    let found = cache.get(key)
    if (!found) {
      found = findGenesis(tftpdir, arch)
      cache.set(key, found)
    }
    return found
  }
}
