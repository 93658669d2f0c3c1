import type { Tables } from '../table/tables.js'
import { peerHost } from './peer.js'

/** How long the address-to-node map is reused before it is read again. */
const CACHE_MS = 5_000

/**
 * Names peers the way nodes are known to xCAT: the node whose hosts.ip (regex values evaluated) is the address,
 * else the reverse name of the address with the domain and -eth/-ib/-myri suffixes removed.
 */
export class PeerResolver {
  #map: Map<string, string> | undefined
  #stamp = 0
  readonly #names = new Map<string, { at: number; name: Promise<{ host: string; fqdn: string }> }>()

  constructor(private readonly tables: Tables) {}

  /** The short name and full name of the peer at `address`. */
  async resolve(address: string): Promise<{ host: string; fqdn: string }> {
    const ip = address.replace(/^::ffff:/, '')
    const node = (await this.#addresses()).get(ip)
    if (node) return { host: node, fqdn: node }
    const cached = this.#names.get(ip)
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.name
    const name = this.tables.site('domain').then((domain) => peerHost(ip, domain ? [domain] : []))
    if (this.#names.size > 10_000) this.#names.clear()
    this.#names.set(ip, { at: Date.now(), name })
    return name
  }

  /**
   * Address-to-node map. Plain hosts.ip values are looked up directly; only the nodes of groups whose hosts.ip is a
   * regular expression are evaluated, so a cluster of plain entries costs one small query per refresh.
   */
  async #addresses(): Promise<Map<string, string>> {
    if (this.#map && Date.now() - this.#stamp < CACHE_MS) return this.#map
    const rows = await this.tables.getAllEntries('hosts', { columns: ['node', 'ip'] })
    const nodes = new Set((await this.tables.getAllEntries('nodelist', { columns: ['node'] })).flatMap((r) => (r.node ? [r.node] : [])))
    const map = new Map<string, string>()
    const regexGroups = new Set<string>()
    for (const { node, ip } of rows) {
      if (!node || !ip) continue
      if (/^[|/]/.test(ip)) regexGroups.add(node)
      else if (nodes.has(node) && !map.has(ip)) map.set(ip, node)
    }
    if (regexGroups.size > 0) {
      const members = [...(await this.tables.nodeGroups([...nodes]))].filter(([, groups]) => groups.some((g) => regexGroups.has(g))).map(([n]) => n)
      for (const [node, row] of await this.tables.getNodesAttribs('hosts', members, ['ip'])) if (row.ip && !map.has(row.ip)) map.set(row.ip, node)
    }
    this.#map = map
    this.#stamp = Date.now()
    return map
  }
}
