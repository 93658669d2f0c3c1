/** One object attribute and the table column that stores it (xCAT's defspec `tabentry`). */
export interface AttrDef {
  readonly attr: string
  readonly table: string
  readonly col: string
  /** `attr=value`: the attribute exists only while that other attribute has that value. */
  readonly onlyIf?: { readonly attr: string; readonly value: string }
}

/** The object types our *def commands know. */
export type ObjectType = 'node' | 'group' | 'osimage' | 'site' | 'policy' | 'network'

/** How one object type maps onto tables. */
export interface ObjectTypeDef {
  readonly type: ObjectType
  /** The attribute naming the object (never printed by lsdef). */
  readonly key: string
  /** The table whose key column lists the objects. */
  readonly table: string
  /** The column holding the object name in tables keyed by the object. */
  readonly keyCol: string
  readonly attrs: readonly AttrDef[]
}

function attrs(table: string, spec: string, onlyIf?: string): AttrDef[] {
  const condition = onlyIf ? { attr: onlyIf.split('=')[0] ?? '', value: onlyIf.split('=')[1] ?? '' } : undefined
  return spec.split(' ').map((item) => {
    const [attr = '', col = attr] = item.split('=')
    return condition ? { attr, table, col, onlyIf: condition } : { attr, table, col }
  })
}

/** Attributes shared by node and group objects, in xCAT's defspec order. */
const NODE_ATTRS: readonly AttrDef[] = [
  ...attrs('nodetype', 'nodetype'),
  ...attrs('postscripts', 'postscripts postbootscripts'),
  ...attrs('noderes', 'xcatmaster servicenode tftpserver tftpdir nfsserver nimserver nfsdir monserver supportproxydhcp=proxydhcp syslog'),
  ...attrs('bootparams', 'kernel initrd kcmdline addkcmdline'),
  ...attrs('noderes', 'primarynic installnic netboot nameservers routenames'),
  ...attrs('servicenode', 'setupnameserver=nameserver setupdhcp=dhcpserver setuptftp=tftpserver setupnfs=nfsserver setupconserver=conserver setupipforward=ipforward setupproxydhcp=proxydhcp setupldap=ldapserver setupntp=ntpserver setupftp=ftpserver setupnim=nimserver dhcpinterfaces'),
  ...attrs('nodetype', 'arch supportedarchs os profile provmethod'),
  ...attrs('nodehm', 'mgt power cons termserver termport conserver getmac cmdmapping serialport serialspeed serialflow consoleondemand consoleenabled'),
  ...attrs('mac', 'interface mac'),
  ...attrs('chain', 'chain ondiscover currstate currchain'),
  ...attrs('nics', 'nicips nichostnamesuffixes nichostnameprefixes nictypes niccustomscripts nicnetworks nicaliases nicextraparams nicdevices nicsadapter'),
  ...attrs('prodkey', 'productkey=key'),
  ...attrs('hosts', 'ip hostnames otherinterfaces'),
]

/** Every object type, keyed by name. */
export const OBJECT_TYPES: Readonly<Record<ObjectType, ObjectTypeDef>> = {
  node: {
    type: 'node',
    key: 'node',
    table: 'nodelist',
    keyCol: 'node',
    attrs: [...attrs('nodelist', 'groups status statustime appstatus appstatustime primarysn hidden updatestatus updatestatustime zonename usercomment=comments'), ...NODE_ATTRS],
  },
  group: {
    type: 'group',
    key: 'groupname',
    table: 'nodegroup',
    keyCol: 'groupname',
    attrs: [...attrs('nodegroup', 'grouptype members membergroups wherevals usercomment=comments'), ...NODE_ATTRS],
  },
  osimage: {
    type: 'osimage',
    key: 'imagename',
    table: 'osimage',
    keyCol: 'imagename',
    attrs: [
      ...attrs('osimage', 'groups imagetype description provmethod osdistroname osupdatename cfmdir'),
      ...attrs('osimage', 'rootfstype nfsrootopts', 'imagetype=linux'),
      ...attrs('osimage', 'profile osname osvers osarch synclists postscripts postbootscripts serverrole isdeletable kitcomponents'),
      ...attrs('linuximage', 'template boottarget addkcmdline pkglist pkgdir otherpkglist otherpkgdir exlist postinstall rootimgdir kerneldir nodebootif otherifce netdrivers kernelver krpmver permission dump crashkernelsize partitionfile driverupdatesrc usercomment=comments', 'imagetype=linux'),
      ...attrs('osimage', 'environvar'),
    ],
  },
  site: { type: 'site', key: 'master', table: 'site', keyCol: 'key', attrs: [] },
  policy: {
    type: 'policy',
    key: 'priority',
    table: 'policy',
    keyCol: 'priority',
    attrs: attrs('policy', 'name host commands noderange parameters time rule usercomment=comments'),
  },
  network: {
    type: 'network',
    key: 'netname',
    table: 'networks',
    keyCol: 'netname',
    attrs: attrs('networks', 'net mask mgtifname gateway dhcpserver tftpserver nameservers ntpservers logservers dynamicrange nodehostname ddnsdomain vlanid domain staticrange staticrangeincrement mtu usercomment=comments'),
  },
}

/** The name of the single site object. */
export const SITE_OBJECT = 'clustersite'

/** The object type `name`, if we know it. */
export function objectType(name: string): ObjectTypeDef | undefined {
  return Object.hasOwn(OBJECT_TYPES, name) ? OBJECT_TYPES[name as ObjectType] : undefined
}

/** The table column behind a node attribute (`os` is nodetype.os), used by dynamic groups. */
export function nodeAttributeColumn(attr: string): { table: string; col: string } | undefined {
  const def = OBJECT_TYPES.node.attrs.find((a) => a.attr === attr)
  return def ? { table: def.table, col: def.col } : undefined
}

/**
 * Whether an `only_if` condition holds. xCAT compares `imagetype` case-sensitively, so images it creates with
 * `imagetype=Linux` lose their linuximage attributes; we compare case-insensitively.
 */
export function onlyIfHolds(def: AttrDef, values: Readonly<Record<string, string | null | undefined>>): boolean {
  if (!def.onlyIf) return true
  const v = values[def.onlyIf.attr]
  if (!v) return false
  const word = def.onlyIf.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`\\b${word}\\b`, 'i').test(v)
}
