import type { BootProbe, NodeBootInfo } from './types.js'

/** A node attribute read for addkcmdline substitution. */
export type AttributeLookup = (table: string, column: string, node: string) => string | undefined

const NODEATTRIB = /#NODEATTRIB:([^:#]+):([^:#]+)#/g
const TABLE = /#TABLE:([^:#]+):([^:#]+):([^:#]+)#/g
const NODE_KEY = /THISNODE|\$NODE/

/** The boot-time part of an addkcmdline: every space-separated token except the persistent `R::` ones. */
export function volatileAddkcmdline(text: string): string {
  return text.split(' ').filter((token) => token !== '' && !token.startsWith('R::')).join(' ')
}

/** The table columns an addkcmdline refers to, so a caller can read them for all nodes at once. */
export function addkcmdlineRefs(text: string): { table: string; column: string }[] {
  const refs = new Map<string, { table: string; column: string }>()
  for (const m of text.matchAll(NODEATTRIB)) refs.set(`${m[1]}:${m[2]}`, { table: m[1]!, column: m[2]! })
  for (const m of text.matchAll(TABLE)) {
    if (NODE_KEY.test(m[2]!)) refs.set(`${m[1]}:${m[3]}`, { table: m[1]!, column: m[3]! })
  }
  return [...refs.values()]
}

/** Replaces `#NODEATTRIB:table:col#` and `#TABLE:table:$NODE|THISNODE:col#` with the node's values (missing → empty). */
export function expandAddkcmdline(text: string, node: string, lookup: AttributeLookup): string {
  if (!text.includes('#')) return text
  const attribs = text.replace(NODEATTRIB, (_m, table: string, column: string) => lookup(table, column, node) ?? '')
  return attribs.replace(TABLE, (_m, table: string, key: string, column: string) => {
    if (!NODE_KEY.test(key)) throw new Error(`Table key of ${key} not yet supported by boottarget mini-template`)
    return lookup(table, column, node) ?? ''
  })
}

/** The kernel command line to boot with: kcmdline, then the node's and the image's volatile addkcmdline, expanded. */
export function bootKcmdline(info: NodeBootInfo, probe: Pick<BootProbe, 'lookup'>): string {
  const kcmdline = info.params?.kcmdline ?? ''
  const add = [info.params?.addkcmdline, info.imageAddkcmdline].filter((s) => s).join(' ')
  if (!add) return kcmdline
  const lookup: AttributeLookup = probe.lookup ? probe.lookup.bind(probe) : () => undefined
  const extra = expandAddkcmdline(volatileAddkcmdline(add), info.node, lookup)
  return kcmdline && extra ? `${kcmdline} ${extra}` : kcmdline || extra
}

/** Replaces xCAT's `!myipfn!` placeholder; fails when the node needs it and no value is known. */
export function substituteMyIp(text: string, ip: string | undefined, node: string): string {
  if (!text.includes('!myipfn!')) return text
  if (!ip) throw new Error(`Unable to determine or reasonably guess the image server for ${node}`)
  return text.replaceAll('!myipfn!', ip)
}
