import { newBootFiles, checkNodeInfo } from './common.js'
import { bootKcmdline, substituteMyIp } from './kcmdline.js'
import { hexIps } from './net.js'
import type { BootFiles, BootProbe, NodeBootInfo, SiteBootSettings } from './types.js'

/** grub2's network configuration directory, relative to the tftpdir. */
export const GRUB2_DIR = 'boot/grub2'

/** The file transfer protocol grub2 loads the kernel with: from noderes.netboot `grub2-http|grub2-tftp`, plain grub2 = tftp. */
export function grub2Protocol(netboot: string | undefined): string {
  return /grub2-(.*)/.exec(netboot ?? '')?.[1] ?? 'tftp'
}

/** The grub2 binary a node's `grub2-<node>` link points to: `grub2.<arch>`, with every ppc64 flavour as `ppc`. */
export function grub2Binary(arch: string): string {
  return `grub2.${/ppc64/i.test(arch) ? 'ppc' : arch}`
}

function slesAtLeast15(os: string | undefined): boolean {
  if (!os || !/^sle/i.test(os)) return false
  return (parseFloat(os.replace(/sles/i, '').replace(/sle/i, '')) || 0) >= 15
}

function menuEntry(info: NodeBootInfo, site: SiteBootSettings, probe: BootProbe, kernel: string): string {
  const server = info.serverIp || info.server || info.facingIp
  if (!server) throw new Error(`Unable to determine the tftpserver for ${info.node}`)
  const protocol = grub2Protocol(info.netboot)
  if (protocol !== 'http' && protocol !== 'tftp') throw new Error(`Invalid netboot method, please check noderes.netboot for ${info.node}`)
  const port = site.httpport || '80'
  const root = protocol === 'http' && port !== '80' ? `http,${server}:${port}` : `${protocol},${server}`
  const dir = protocol === 'http' ? site.tftpdir : ''
  const efi = /x86/i.test(info.arch ?? '') ? 'efi' : ''
  const kcmdline = substituteMyIp(bootKcmdline(info, probe), info.facingIp, info.node)
  const initrd = info.params?.initrd
  return 'set default="xCAT OS Deployment"\n' +
    'menuentry "xCAT OS Deployment" {\n' +
    '    insmod http\n' +
    '    insmod tftp\n' +
    `    set root=${root}\n` +
    '    echo Loading Install kernel ...\n' +
    `    linux${efi} ${dir}/${kernel} ${kcmdline ? `${kcmdline} ` : ''}BOOTIF=$net_default_mac\n` +
    '    echo Loading initial ramdisk ...\n' +
    (initrd ? `    initrd${efi} ${dir}/${initrd}\n` : '') +
    '}'
}

/** boot/grub2/<node>, its `grub.cfg-<HEXIP>` and `grub.cfg-01-<mac>` hard links and the `grub2-<node>` binary symlink. */
export function renderGrub2(info: NodeBootInfo, site: SiteBootSettings, probe: BootProbe): BootFiles {
  checkNodeInfo(info)
  const out = newBootFiles()
  const path = `${GRUB2_DIR}/${info.node}`
  const binLink = `${GRUB2_DIR}/grub2-${info.node}`
  const links = [
    ...hexIps(info.ip, info.aliasIps).map((hex) => `${GRUB2_DIR}/grub.cfg-${hex}`),
    ...(info.macs ?? []).map((mac) => `${GRUB2_DIR}/grub.cfg-01-${mac.toLowerCase().replaceAll(':', '-')}`),
  ]
  out.dropLinksOf = [path]
  if (info.state === 'offline') {
    out.remove.push(path, binLink, ...links)
    return out
  }
  const debug = site.debugmode === '1' || site.debugmode === '2' ? 'set debug=all\n' : ''
  const kernel = info.params?.kernel
  const menu = info.state !== 'boot' && kernel ? menuEntry(info, site, probe, kernel) : ''
  out.files.push({ path, content: `#${info.state}\n${debug}set timeout=5\n${menu}` })
  if (info.state === 'boot' || (info.state === 'standby' && slesAtLeast15(info.os))) {
    out.remove.push(binLink)
  } else {
    if (!info.arch) throw new Error('No archictecture defined in nodetype table for the node.')
    const bin = grub2Binary(info.arch)
    if (!probe.exists(`${site.tftpdir}/${GRUB2_DIR}/${bin}`)) {
      throw new Error(`Stop grub2 configuration for this node, "${site.tftpdir}/${GRUB2_DIR}/${bin}" does not exits.`)
    }
    out.symlinks.push({ path: binLink, target: bin })
  }
  for (const link of links) out.hardlinks.push({ path: link, target: path })
  return out
}
