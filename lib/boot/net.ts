const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i

/** An IPv4 address as pxelinux/grub2/petitboot file names spell it: `%02X` per octet (10.0.0.5 → 0A000005). */
export function hexIp(ip: string): string | undefined {
  const m = IPV4.exec(ip)
  if (!m) return undefined
  let hex = ''
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i])
    if (octet > 255) return undefined
    hex += octet.toString(16).toUpperCase().padStart(2, '0')
  }
  return hex
}

/** The hex names of the node's IP and its alias IPs, without duplicates. */
export function hexIps(ip: string | undefined, aliasIps: readonly string[] | undefined): string[] {
  const names = new Set<string>()
  for (const addr of ip === undefined ? aliasIps ?? [] : [ip, ...aliasIps ?? []]) {
    const hex = hexIp(addr)
    if (hex) names.add(hex)
  }
  return [...names]
}

/** The MAC a mac.mac value gives for a node (xCAT's parseMacTabEntry): the `<mac>!<node>` entry, else the last bare one. */
export function parseMacEntry(value: string, node: string): string | undefined {
  let found: string | undefined
  for (const entry of value.split('|')) {
    const bang = entry.indexOf('!')
    if (bang < 0) found = entry
    else if (bang > 0 && entry.slice(bang + 1) === node) {
      found = entry.slice(0, bang)
      break
    }
  }
  if (found && !found.includes(':')) found = found.replace(/^(..)(..)(..)(..)(..)(..)/, '$1:$2:$3:$4:$5:$6')
  return found
}

/** The MAC grub2 links `grub.cfg-01-<mac>` for: noderes.installnic when it is a MAC, else the node's mac.mac entry. */
export function installMac(macValue: string | undefined, node: string, installnic?: string): string | undefined {
  if (installnic && MAC.test(installnic)) return installnic.toLowerCase()
  const mac = macValue ? parseMacEntry(macValue, node) : undefined
  return mac?.includes(':') ? mac.toLowerCase() : undefined
}

/** The host names of the `<mac>!<host>` aliases in a mac.mac value, whose IPs get pxelinux/grub2 hex links too. */
export function macAliasHosts(value: string): string[] {
  const hosts: string[] = []
  for (const entry of value.split('|')) {
    const bang = entry.indexOf('!')
    if (bang >= 0 && bang < entry.length - 1) hosts.push(entry.slice(bang + 1))
  }
  return hosts
}
