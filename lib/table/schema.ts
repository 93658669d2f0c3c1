import { xcatError } from '../errors.js'
import { TABLE_DESCRIPTIONS } from './descriptions.js'

/** Column layout and keys of one xCAT table, as xCAT's Schema.pm defines it. */
export interface TableSpec {
  readonly name: string
  readonly cols: readonly string[]
  readonly keys: readonly string[]
  readonly types: Readonly<Record<string, string>>
}

function spec(name: string, keys: readonly string[], cols: string, types: Record<string, string> = {}): TableSpec {
  return Object.freeze({ name, keys, cols: Object.freeze(cols.split(' ')), types: Object.freeze(types) })
}

/** Every table we know, in xCAT's column order (every table ends with comments, disable). */
export const TABLES: Readonly<Record<string, TableSpec>> = Object.freeze({
  site: spec('site', ['key'], 'key value comments disable'),
  nodelist: spec('nodelist', ['node'], 'node groups status statustime appstatus appstatustime primarysn hidden updatestatus updatestatustime zonename comments disable'),
  nodetype: spec('nodetype', ['node'], 'node os arch profile provmethod supportedarchs nodetype comments disable'),
  noderes: spec('noderes', ['node'], 'node servicenode netboot tftpserver tftpdir nfsserver monserver nfsdir installnic primarynic discoverynics cmdinterface xcatmaster current_osimage next_osimage nimserver routenames nameservers proxydhcp syslog comments disable'),
  nodehm: spec('nodehm', ['node'], 'node power mgt cons termserver termport conserver serialport serialspeed serialflow getmac cmdmapping consoleondemand consoleenabled comments disable'),
  mac: spec('mac', ['node'], 'node interface mac comments disable'),
  osimage: spec('osimage', ['imagename'], 'imagename groups profile imagetype description provmethod rootfstype nfsrootopts osdistroname osupdatename cfmdir osname osvers osarch synclists postscripts postbootscripts serverrole isdeletable kitcomponents environvar comments disable', { osupdatename: 'VARCHAR(1024)' }),
  linuximage: spec('linuximage', ['imagename'], 'imagename template boottarget addkcmdline pkglist pkgdir otherpkglist otherpkgdir exlist postinstall rootimgdir kerneldir nodebootif otherifce netdrivers kernelver krpmver permission dump crashkernelsize partitionfile driverupdatesrc comments disable'),
  chain: spec('chain', ['node'], 'node currstate currchain chain ondiscover comments disable'),
  bootparams: spec('bootparams', ['node'], 'node kernel initrd kcmdline addkcmdline dhcpstatements adddhcpstatements comments disable'),
  postscripts: spec('postscripts', ['node'], 'node postscripts postbootscripts comments disable'),
  policy: spec('policy', ['priority'], 'priority name host commands noderange parameters time rule comments disable'),
  passwd: spec('passwd', ['key', 'username'], 'key username password cryptmethod authdomain comments disable'),
  networks: spec('networks', ['net', 'mask'], 'netname net mask mgtifname gateway dhcpserver tftpserver nameservers ntpservers logservers dynamicrange staticrange staticrangeincrement nodehostname ddnsdomain vlanid domain mtu comments disable'),
  hosts: spec('hosts', ['node'], 'node ip hostnames otherinterfaces comments disable'),
  servicenode: spec('servicenode', ['node'], 'node nameserver dhcpserver tftpserver nfsserver conserver monserver ldapserver ntpserver ftpserver nimserver ipforward dhcpinterfaces proxydhcp comments disable'),
  nodegroup: spec('nodegroup', ['groupname'], 'groupname grouptype members membergroups wherevals comments disable'),
  nics: spec('nics', ['node'], 'node nicips nichostnamesuffixes nichostnameprefixes nictypes niccustomscripts nicnetworks nicaliases nicextraparams nicdevices nicsadapter comments disable'),
  prodkey: spec('prodkey', ['node', 'product'], 'node product key comments disable'),
})

/** Names of all known tables, sorted. */
export const TABLE_NAMES: readonly string[] = Object.freeze(Object.keys(TABLES).sort())

/** The spec of `table`, or an XCAT_ERR_NO_TABLE error. */
export function tableSpec(table: string): TableSpec {
  const found = Object.hasOwn(TABLES, table) ? TABLES[table] : undefined
  if (!found) throw xcatError('XCAT_ERR_NO_TABLE', table)
  return found
}

/** Throws XCAT_ERR_NO_COLUMN unless every column exists in `table`. */
export function checkColumns(spec: TableSpec, cols: Iterable<string>): void {
  for (const col of cols) {
    if (!spec.cols.includes(col)) throw xcatError('XCAT_ERR_NO_COLUMN', spec.name, col)
  }
}

/** True when the table is keyed by node name (getNodeAttribs applies). */
export function isNodeTable(spec: TableSpec): boolean {
  return spec.keys[0] === 'node'
}

/** Column descriptions of `table` for `tabdump -d`. */
export function columnDescriptions(table: string): Readonly<Record<string, string>> {
  return TABLE_DESCRIPTIONS[table]?.columns ?? {}
}

/** One-line description of `table` for `tabdump -d` without a table. */
export function tableDescription(table: string): string {
  return TABLE_DESCRIPTIONS[table]?.table ?? ''
}
