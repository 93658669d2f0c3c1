import { newBootFiles, checkNodeInfo } from './common.js'
import { bootKcmdline, substituteMyIp } from './kcmdline.js'
import { hexIps } from './net.js'
import type { BootFiles, BootProbe, NodeBootInfo, SiteBootSettings } from './types.js'

/** pxelinux's configuration directory, relative to the tftpdir. */
export const PXE_DIR = 'pxelinux.cfg'

const NO_IPAPPEND = /fedora12|fedora13/

/** pxelinux.cfg/<node> plus a `<HEXIP>` symlink to it for the node's IP and every alias IP. */
export function renderPxe(info: NodeBootInfo, _site: SiteBootSettings, probe: BootProbe): BootFiles {
  checkNodeInfo(info)
  const out = newBootFiles()
  const path = `${PXE_DIR}/${info.node}`
  const links = hexIps(info.ip, info.aliasIps).map((hex) => `${PXE_DIR}/${hex}`)
  if (info.state === 'offline') {
    out.remove.push(path, ...links)
    return out
  }
  const kernel = info.params?.kernel
  let body = 'LOCALBOOT 0\n'
  if (info.state !== 'boot' && kernel) {
    if (kernel.includes('!')) throw new Error(`Kernel ${kernel} needs mboot.c32, which this pxe writer does not support`)
    const initrd = info.params?.initrd
    const kcmdline = substituteMyIp(bootKcmdline(info, probe), info.facingIp, info.node)
    const append = [initrd ? `initrd=${initrd}` : '', kcmdline].filter((s) => s).join(' ')
    body = ` KERNEL ${kernel}\n${append ? ` APPEND ${append}\n` : ''}${NO_IPAPPEND.test(info.os ?? '') ? '' : '  IPAPPEND 2\n'}`
  }
  out.files.push({ path, content: `#${info.state}\nDEFAULT xCAT\nLABEL xCAT\n${body}` })
  for (const link of links) out.symlinks.push({ path: link, target: info.node })
  return out
}
