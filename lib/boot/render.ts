import { renderGrub2 } from './grub2.js'
import { renderPetitboot } from './petitboot.js'
import { renderPxe } from './pxe.js'
import type { BootFiles, BootLoader, BootProbe, NodeBootInfo, SiteBootSettings } from './types.js'
import { renderXnba } from './xnba.js'

/** One boot loader's writer. */
export type BootRenderer = (info: NodeBootInfo, site: SiteBootSettings, probe: BootProbe) => BootFiles

const RENDERERS: Record<BootLoader, BootRenderer> = { xnba: renderXnba, pxe: renderPxe, grub2: renderGrub2, petitboot: renderPetitboot }

/** The writer for a boot loader. */
export function rendererFor(loader: BootLoader): BootRenderer {
  return RENDERERS[loader]
}

/** The boot loader a noderes.netboot value selects, as xCAT's plugins claim nodes (`grub2`, `grub2-http`, … → grub2). */
export function loaderForNetboot(netboot: string | undefined): BootLoader | undefined {
  if (netboot === 'xnba' || netboot === 'pxe' || netboot === 'petitboot') return netboot
  return netboot && /^grub2-?/.test(netboot) ? 'grub2' : undefined
}
