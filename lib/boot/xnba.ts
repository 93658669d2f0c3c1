import { newBootFiles, portSuffix, checkNodeInfo } from './common.js'
import { bootKcmdline } from './kcmdline.js'
import type { BootFiles, BootProbe, NodeBootInfo, SiteBootSettings } from './types.js'

/** Where xnba's per-node scripts live, relative to the tftpdir. */
export const XNBA_DIR = 'xcat/xnba/nodes'

const SLES11 = /(?:^|[=/\s_-])sles?11(?:[.\s/_-]|$)/i
const NEEDS_PXELINUX = /!|\.c32$|memdisk$/

/** xNBA's gPXE scripts `<node>` (BIOS) and `<node>.uefi`, plus the elilo config for kernels without an EFI stub. */
export function renderXnba(info: NodeBootInfo, site: SiteBootSettings, probe: BootProbe): BootFiles {
  checkNodeInfo(info)
  const out = newBootFiles()
  const base = `${XNBA_DIR}/${info.node}`
  const uefi = `${base}.uefi`
  const elilo = `${base}.elilo`
  if (info.state === 'offline') {
    out.remove.push(base, `${base}.pxelinux`, uefi, elilo)
    return out
  }
  out.remove.push(`${base}.pxelinux`)
  const head = `#!gpxe\n#${info.state}\n`
  const kernel = info.params?.kernel
  if (info.state === 'boot' || !kernel) {
    out.files.push({ path: base, content: head + (info.state === 'boot' ? 'exit\n' : 'LOCALBOOT 0\n') }, { path: uefi, content: `${head}exit\n` })
    out.remove.push(elilo)
    return out
  }
  if (NEEDS_PXELINUX.test(kernel)) throw new Error(`Kernel ${kernel} needs pxelinux chaining, which this xnba writer does not support`)

  const http = `http://\${next-server}${portSuffix(site.httpport)}/tftpboot/`
  const initrd = info.params?.initrd
  const kcmdline = bootKcmdline(info, probe)
  const imgargs = kcmdline ? `${kcmdline.replaceAll('!myipfn!', '${next-server}')} BOOTIF=01-\${netX/mac:hexhyp}` : 'BOOTIF=${netX/mac}'
  const fetchInitrd = initrd ? `imgfetch -n initrd ${http}${initrd}\n` : ''
  const fetchKernel = `imgfetch -n kernel ${http}${kernel}\nimgload kernel\n`
  out.files.push({ path: base, content: `${head}${fetchKernel}imgargs kernel ${imgargs}\n${fetchInitrd}imgexec kernel\n` })
  if (!kcmdline || !initrd) {
    out.remove.push(uefi, elilo)
    return out
  }
  if (probe.kernelHasEfiStub(`${site.tftpdir}/${kernel}`) && !SLES11.test(`${kernel} ${initrd} ${kcmdline}`)) {
    out.files.push({ path: uefi, content: `#!gpxe\n${fetchKernel}imgargs kernel ${imgargs} initrd=initrd\n${fetchInitrd}imgexec kernel\n` })
    out.remove.push(elilo)
    return out
  }
  out.files.push(
    { path: uefi, content: `#!gpxe\nchain ${http}xcat/elilo-x64.efi -C /tftpboot/${elilo}\n` },
    {
      path: elilo,
      content: `default="xCAT"\ndelay=0\n\nimage=/tftpboot/${kernel}\n   label="xCAT"\n   initrd=/tftpboot/${initrd}\n   append="${kcmdline.replaceAll('!myipfn!', '%N')} BOOTIF=%B"\n`,
    },
  )
  return out
}
