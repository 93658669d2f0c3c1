import { lookup } from 'node:dns/promises'
import type { Tables } from '../table/tables.js'

/** How many name lookups run at once for nodes without hosts.ip. */
const LOOKUP_CONCURRENCY = 32

async function resolveName(node: string): Promise<string | undefined> {
  try {
    return (await lookup(node, { family: 4 })).address
  } catch {
    return undefined
  }
}

/**
 * xCAT's checkNodeIPaddress for many nodes: hosts.ip when set, else the resolver's address of the node name.
 * Nodes that resolve to nothing are missing from the result.
 */
export async function resolveNodeIps(tables: Tables, nodes: readonly string[]): Promise<Map<string, string>> {
  const hosts = await tables.getNodesAttribs('hosts', nodes, ['ip'])
  const result = new Map<string, string>()
  const unresolved: string[] = []
  for (const node of nodes) {
    const ip = hosts.get(node)?.ip
    if (ip) result.set(node, ip)
    else unresolved.push(node)
  }
  for (let i = 0; i < unresolved.length; i += LOOKUP_CONCURRENCY) {
    const batch = unresolved.slice(i, i + LOOKUP_CONCURRENCY)
    const ips = await Promise.all(batch.map(resolveName))
    batch.forEach((node, k) => {
      const ip = ips[k]
      if (ip) result.set(node, ip)
    })
  }
  return result
}
