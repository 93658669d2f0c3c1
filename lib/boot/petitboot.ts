import { newBootFiles, checkNodeInfo } from './common.js'
import { bootKcmdline, substituteMyIp } from './kcmdline.js'
import { hexIp } from './net.js'
import type { BootFiles, BootProbe, NodeBootInfo, SiteBootSettings } from './types.js'

/** petitboot's configuration directory, relative to the tftpdir. */
export const PETITBOOT_DIR = 'petitboot'

/** petitboot/<node> with HTTP URLs for kernel and initrd, hard linked as `<HEXIP>` in the tftpdir. */
export function renderPetitboot(info: NodeBootInfo, site: SiteBootSettings, probe: BootProbe): BootFiles {
  checkNodeInfo(info)
  const out = newBootFiles()
  const path = `${PETITBOOT_DIR}/${info.node}`
  const hex = info.ip === undefined ? undefined : hexIp(info.ip)
  if (info.state === 'offline') {
    out.remove.push(path)
    if (hex) out.remove.push(hex)
    return out
  }
  let content = `#${info.state}\n`
  const kernel = info.params?.kernel
  if (info.state !== 'boot' && kernel) {
    const label = info.state === 'shell' ? 'xCAT Genesis shell' : 'xCAT'
    const url = (file: string): string => {
      if (file.startsWith(site.tftpdir)) return file
      const server = info.server || info.facingIp
      if (!server) throw new Error(`Unable to determine the server facing ${info.node}`)
      return `${site.httpmethod || 'http'}://${server}:${site.httpport || '80'}${site.tftpdir}/${file}`
    }
    const initrd = info.params?.initrd
    const kcmdline = substituteMyIp(bootKcmdline(info, probe), info.facingIp, info.node)
    content += `default ${label}\nlabel ${label}\n\tkernel ${url(kernel)}\n` +
      (initrd ? `\tinitrd ${url(initrd)}\n` : '') +
      (kcmdline ? `\tappend "${kcmdline}"\n` : '')
  }
  out.files.push({ path, content })
  if (hex) out.hardlinks.push({ path: hex, target: path })
  return out
}
