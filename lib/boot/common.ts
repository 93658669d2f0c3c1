import type { BootFiles, NodeBootInfo } from './types.js'

/** A change set with nothing in it yet. */
export function newBootFiles(): BootFiles {
  return { files: [], remove: [], symlinks: [], hardlinks: [] }
}

/** site.httpport as a URL suffix: empty for the default 80. */
export function portSuffix(httpport: string | undefined): string {
  return httpport && httpport !== '80' ? `:${httpport}` : ''
}

/** Fails a node without a chain.currstate (setdestiny sets it) or whose name cannot be a file name in the tftpdir. */
export function checkNodeInfo(info: NodeBootInfo): void {
  if (!info.node || info.node.includes('/') || info.node === '.' || info.node === '..') throw new Error(`Invalid node name ${JSON.stringify(info.node)}`)
  if (!info.state) throw new Error('Cannot determine current state for this node')
}
