import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import type { AttributeLookup } from './kcmdline.js'
import type { BootProbe } from './types.js'

const EFI_STUB = Buffer.from([0x50, 0x45, 0x00, 0x00, 0x64, 0x86])

/** Whether a kernel image carries an x86-64 EFI stub: the PE signature `PE\0\0` + machine 0x8664 in its first 512 bytes. */
export function hasEfiStub(path: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return false
  }
  try {
    const head = Buffer.alloc(512)
    const n = readSync(fd, head, 0, 512, 0)
    return head.subarray(0, n).includes(EFI_STUB)
  } finally {
    closeSync(fd)
  }
}

/** A probe on the real file system that answers each path once per nodeset run. */
export function fsBootProbe(lookup?: AttributeLookup): BootProbe {
  const stubs = new Map<string, boolean>()
  const present = new Map<string, boolean>()
  const probe: BootProbe = {
    kernelHasEfiStub(path) {
      let known = stubs.get(path)
      if (known === undefined) stubs.set(path, known = hasEfiStub(path))
      return known
    },
    exists(path) {
      let known = present.get(path)
      if (known === undefined) present.set(path, known = existsSync(path))
      return known
    },
  }
  if (lookup) probe.lookup = lookup
  return probe
}
