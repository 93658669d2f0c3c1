import { lookupService } from 'node:dns/promises'
import type { TLSSocket } from 'node:tls'

/**
 * The client certificate's standing: `user` is the subject CN of a certificate that chains to our CA, `refused` is
 * true for a certificate that does not (xcatd's VERIFY_PEER ends such handshakes); no certificate is anonymous.
 */
export function certificateUser(socket: TLSSocket): { user: string | undefined; refused: boolean } {
  const subject = socket.getPeerCertificate()?.subject
  if (!subject) return { user: undefined, refused: false }
  if (!socket.authorized) return { user: undefined, refused: true }
  const cn = subject.CN
  return { user: (Array.isArray(cn) ? cn[0] : cn) || undefined, refused: false }
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
