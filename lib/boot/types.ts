import type { BootParams } from './bootparams.js'
import type { AttributeLookup } from './kcmdline.js'

/** The boot loaders nodeset writes configuration for. */
export type BootLoader = 'xnba' | 'pxe' | 'grub2' | 'petitboot'

/** One node's kernel, initrd and command lines, as the request's bootparams hash holds them. */
export type NodeBootParams = BootParams

/** What a boot-loader writer needs to know about one node. */
export interface NodeBootInfo {
  node: string
  /** chain.currstate. */
  state: string
  /** The node's boot parameters from the request's bootparams hash. */
  params?: NodeBootParams | undefined
  /** linuximage.addkcmdline of the node's image (unless it has a boottarget). */
  imageAddkcmdline?: string | undefined
  ip?: string | undefined
  aliasIps?: readonly string[] | undefined
  macs?: readonly string[] | undefined
  arch?: string | undefined
  os?: string | undefined
  netboot?: string | undefined
  /** The management node's IP facing the node. */
  facingIp?: string | undefined
  /** noderes.tftpserver, else noderes.xcatmaster. */
  server?: string | undefined
  /** `server` resolved to an IP. */
  serverIp?: string | undefined
}

/** Site attributes the writers read. */
export interface SiteBootSettings {
  tftpdir: string
  httpport?: string | undefined
  httpmethod?: string | undefined
  debugmode?: string | undefined
}

/** One file to write, relative to the tftpdir. */
export interface BootFile {
  path: string
  content: string
}

/** A link to create, relative to the tftpdir. */
export interface BootLink {
  path: string
  target: string
}

/** The changes one node's boot configuration needs, relative to the tftpdir. */
export interface BootFiles {
  files: BootFile[]
  remove: string[]
  symlinks: BootLink[]
  hardlinks: BootLink[]
  /** Files whose other hard-link names are dropped before writing. */
  dropLinksOf?: string[]
}

/** File-system and table questions a writer may ask, answered once per path per run. */
export interface BootProbe {
  kernelHasEfiStub(path: string): boolean
  exists(path: string): boolean
  lookup?: AttributeLookup
}
