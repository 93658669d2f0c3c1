import { lookupService } from 'node:dns/promises'
import type { TLSSocket } from 'node:tls'

/** The user a verified client certificate names: its subject CN; undefined for anonymous clients. */
export function certificateUser(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined
  const cn = socket.getPeerCertificate()?.subject?.CN
  return Array.isArray(cn) ? cn[0] : cn || undefined
}

/** xCAT's short host name of a peer: domain (or everything after the first dot) and -eth/-ib/-myri suffixes removed. */
export function shortPeerName(fqdn: string, domains: readonly string[] = []): string {
  let name = fqdn
  const domain = domains.find((d) => d && name.endsWith(`.${d}`))
  name = domain ? name.slice(0, -(domain.length + 1)) : name.split('.')[0] ?? name
  return name.replace(/-(eth|myri|ib)\d*$/, '')
}

/** The peer's reverse name (as the resolver and /etc/hosts give it) and its short form; the address when unnamed. */
export async function peerHost(address: string, domains: readonly string[] = []): Promise<{ host: string; fqdn: string }> {
  const ip = address.replace(/^::ffff:/, '')
  try {
    const { hostname } = await lookupService(ip, 0)
    if (hostname && hostname !== ip) return { host: shortPeerName(hostname, domains), fqdn: hostname }
  } catch {
    // an address without a name keeps the address
  }
  return { host: ip, fqdn: ip }
}
