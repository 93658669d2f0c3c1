import { lookup } from 'node:dns/promises'
import { readFileSync, readlinkSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import type { Tables } from '../table/tables.js'

/** Facts about the management node that xCAT's default site rows are computed from. */
export interface HostFacts {
  readonly domain: string
  readonly master: string
  readonly forwarders: readonly string[]
  readonly timezone: string
  readonly installdir: string
  readonly tftpdir: string
  /** CN of the server certificate, for the priority 1.2 "trusted" policy row (when credentials exist). */
  readonly serverCertCn?: string
}

/** Reads the host facts the way xcatconfig does (hostname -d, the address `hostname` resolves to, resolv.conf). */
export async function detectHostFacts(options: { installdir?: string; tftpdir?: string } = {}): Promise<HostFacts> {
  const full = hostname()
  let master = 'NORESOLUTION'
  try {
    master = (await lookup(full)).address
  } catch {
    // xcatconfig records NORESOLUTION when the host name does not resolve
  }
  const own = new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address)))
  let forwarders: string[]
  try {
    forwarders = readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((ip): ip is string => ip !== undefined && !own.has(ip))
  } catch {
    forwarders = []
  }
  let timezone: string
  try {
    timezone = readlinkSync('/etc/localtime').replace(/^.*zoneinfo\//, '')
  } catch {
    try {
      timezone = readFileSync('/etc/timezone', 'utf8').trim()
    } catch {
      timezone = ''
    }
  }
  return {
    domain: full.includes('.') ? full.slice(full.indexOf('.') + 1) : '',
    master,
    forwarders,
    timezone,
    installdir: options.installdir ?? '/install',
    tftpdir: options.tftpdir ?? '/tftpboot',
  }
}

/** xcatconfig's default site rows, in its order; rows whose value would be empty are not written. */
export function defaultSiteRows(facts: HostFacts): [string, string][] {
  const rows: [string, string][] = [
    ['blademaxp', '64'],
    ['domain', facts.domain],
    ['fsptimeout', '0'],
    ['installdir', facts.installdir],
    ['ipmimaxp', '64'],
    ['ipmiretries', '3'],
    ['ipmitimeout', '2'],
    ['consoleondemand', 'no'],
    ['master', facts.master],
    ['forwarders', facts.forwarders.join(',')],
    ['nameservers', facts.master],
    ['maxssh', '8'],
    ['ppcmaxp', '64'],
    ['ppcretry', '3'],
    ['ppctimeout', '0'],
    ['powerinterval', '0'],
    ['syspowerinterval', '0'],
    ['sharedtftp', '1'],
    ['SNsyncfiledir', '/var/xcat/syncfiles'],
    ['nodesyncfiledir', '/var/xcat/node/syncfiles'],
    ['tftpdir', facts.tftpdir],
    ['xcatdport', '3001'],
    ['xcatiport', '3002'],
    ['xcatconfdir', '/etc/xcat'],
    ['timezone', facts.timezone],
    ['useNmapfromMN', 'no'],
    ['enableASMI', 'no'],
    ['db2installloc', '/mntdb2'],
    ['databaseloc', '/var/lib'],
    ['sshbetweennodes', 'ALLGROUPS'],
    ['dnshandler', 'ddns'],
    ['vsftp', 'n'],
    ['cleanupxcatpost', 'no'],
    ['cleanupdiskfullxcatpost', 'no'],
    ['dhcplease', '43200'],
    ['auditnosyslog', '0'],
    ['xcattlspolicy', 'modern'],
    ['auditskipcmds', 'ALL'],
  ]
  return rows.filter(([, v]) => v !== '')
}

/** xcatconfig's default policy rows: priority, name, commands, rule. */
export function defaultPolicyRows(serverCertCn?: string): [string, string | null, string | null, string][] {
  return [
    ['1', 'root', null, 'allow'],
    ...(serverCertCn ? [['1.2', serverCertCn, null, 'trusted'] as [string, string, null, string]] : []),
    ['2', null, 'getbmcconfig', 'allow'],
    ['2.1', null, 'remoteimmsetup', 'allow'],
    ['2.3', null, 'lsxcatd', 'allow'],
    ['3', null, 'nextdestiny', 'allow'],
    ['4', null, 'getdestiny', 'allow'],
    ['4.4', null, 'getpostscript', 'allow'],
    ['4.5', null, 'getcredentials', 'allow'],
    ['4.6', null, 'syncfiles', 'allow'],
    ['4.7', null, 'litefile', 'allow'],
    ['4.8', null, 'litetree', 'allow'],
    ['4.9', null, 'getadapter', 'allow'],
  ]
}

/** `xcatconfig -d`: creates the tables and upserts xCAT's default site, policy and postscripts rows (deletes nothing). */
export async function initDatabase(tables: Tables, facts: HostFacts): Promise<void> {
  await tables.transaction(['site', 'policy', 'postscripts'], async (tx) => {
    await tx.setMany('site', defaultSiteRows(facts).map(([key, value]) => ({ keys: { key }, values: { value } })))
    await tx.setMany('policy', defaultPolicyRows(facts.serverCertCn).map(([priority, name, commands, rule]) => ({ keys: { priority }, values: { name, commands, rule } })))
    await tx.setMany('postscripts', [
      { keys: { node: 'xcatdefaults' }, values: { postscripts: 'syslog,remoteshell,syncfiles', postbootscripts: 'otherpkgs' } },
      { keys: { node: 'service' }, values: { postscripts: 'servicenode' } },
    ])
  })
}
