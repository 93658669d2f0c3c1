import { networkInterfaces } from 'node:os'

/** One IPv4 address of this host with its prefix length. */
export interface LocalAddress {
  readonly address: string
  readonly prefix: number
}

/** This host's IPv4 addresses (loopback included, as xCAT's `ip addr` scan does). */
export function localIpv4Addresses(): LocalAddress[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).flatMap((a) => (a.family === 'IPv4' && a.cidr ? [{ address: a.address, prefix: Number(a.cidr.split('/')[1]) }] : [])))
}

/** An IPv4 address as an unsigned 32-bit number; undefined when it is not a dotted quad. */
export function ipv4Number(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return parts.reduce((n, p) => n * 256 + p, 0)
}

function inPrefix(a: number, b: number, prefix: number): boolean {
  if (prefix === 0) return true
  const shift = 32 - prefix
  return Math.floor(a / 2 ** shift) === Math.floor(b / 2 ** shift)
}

/** xCAT's my_ip_facing: the first local address on the same subnet as `peerIp`. */
export function ipFacing(peerIp: string, addresses: readonly LocalAddress[] = localIpv4Addresses()): string | undefined {
  const peer = ipv4Number(peerIp)
  if (peer === undefined) return undefined
  return addresses.find((a) => {
    const n = ipv4Number(a.address)
    return n !== undefined && inPrefix(n, peer, a.prefix)
  })?.address
}

/** True when `ip` lies in `net`/`mask` (mask dotted or a prefix length). */
export function inNetwork(ip: string, net: string, mask: string): boolean {
  const a = ipv4Number(ip)
  const b = ipv4Number(net)
  const prefix = maskPrefix(mask)
  return a !== undefined && b !== undefined && prefix !== undefined && inPrefix(a, b, prefix)
}

/** A netmask (255.255.0.0, or 16, or /16) as a prefix length; undefined when it is not one. */
export function maskPrefix(mask: string): number | undefined {
  const bare = mask.replace(/^\//, '')
  if (/^\d{1,2}$/.test(bare)) return Number(bare) <= 32 ? Number(bare) : undefined
  const n = ipv4Number(bare)
  if (n === undefined) return undefined
  const bits = n.toString(2).padStart(32, '0')
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined
}
