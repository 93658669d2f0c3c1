import { lookup } from 'node:dns/promises'
import type { Tables } from '../table/tables.js'
import type { Row } from '../table/driver.js'
import type { BootParamsHash } from './bootparams.js'
import { ipFacing, ipv4Number, localIpv4Addresses } from './facing-ip.js'
import { addkcmdlineRefs, type AttributeLookup } from './kcmdline.js'
import { installMac, macAliasHosts } from './net.js'
import { resolveNodeIps } from './node-ip.js'
import type { NodeBootInfo } from './types.js'

const LEGACY = new Set(['install', 'netboot', 'statelite'])

/** Everything the boot-file writers need for the nodes of one request, read in a few batched queries. */
export interface BootInfoBatch {
  readonly infos: Map<string, NodeBootInfo>
  readonly tftpdirOf: (node: string) => string
  readonly lookup: AttributeLookup
}

async function addressOf(name: string, cache: Map<string, Promise<string | undefined>>): Promise<string | undefined> {
  if (ipv4Number(name) !== undefined) return name
  let found = cache.get(name)
  if (!found) {
    found = lookup(name, { family: 4 }).then((r) => r.address, () => undefined)
    cache.set(name, found)
  }
  return found
}

/** Reads the columns addkcmdline values refer to (`#NODEATTRIB:table:col#`) for all nodes at once. */
async function attributeLookup(tables: Tables, nodes: readonly string[], texts: readonly string[]): Promise<AttributeLookup> {
  const refs = new Map<string, Set<string>>()
  for (const text of texts) for (const { table, column } of addkcmdlineRefs(text)) refs.set(table, (refs.get(table) ?? new Set()).add(column))
  const values = new Map<string, Map<string, Row>>()
  for (const [table, cols] of refs) {
    try {
      values.set(table, await tables.getNodesAttribs(table, nodes, [...cols]))
    } catch {
      values.set(table, new Map())
    }
  }
  return (table, column, node) => values.get(table)?.get(node)?.[column] ?? undefined
}

/** The boot information of each node after setdestiny: chain state, boot parameters, addresses and image settings. */
export async function readBootInfo(tables: Tables, nodes: readonly string[], bootparams: BootParamsHash, nodeIps: ReadonlyMap<string, string>): Promise<BootInfoBatch> {
  const [chains, res, types, macs, siteTftpdir] = await Promise.all([
    tables.getNodesAttribs('chain', nodes, ['currstate']),
    tables.getNodesAttribs('noderes', nodes, ['tftpdir', 'tftpserver', 'xcatmaster', 'netboot', 'installnic']),
    tables.getNodesAttribs('nodetype', nodes, ['provmethod', 'arch', 'os']),
    tables.getNodesAttribs('mac', nodes, ['mac']),
    tables.site('tftpdir'),
  ])
  const images = [...new Set([...types.values()].map((t) => t.provmethod ?? '').filter((p) => p && !LEGACY.has(p)))]
  const imageRows = new Map((await tables.getRowsIn('linuximage', 'imagename', images, ['imagename', 'boottarget', 'addkcmdline'])).map((r) => [r.imagename ?? '', r]))
  const addTexts = [...[...bootparams.values()].map((b) => b.addkcmdline ?? ''), ...[...imageRows.values()].map((r) => r.addkcmdline ?? '')].filter(Boolean)
  const lookupAttr = await attributeLookup(tables, nodes, addTexts)
  const aliasHosts = [...new Set([...macs.values()].flatMap((m) => macAliasHosts(m.mac ?? '')))]
  const aliasIps = aliasHosts.length ? await resolveNodeIps(tables, aliasHosts) : new Map<string, string>()
  const local = localIpv4Addresses()
  const names = new Map<string, Promise<string | undefined>>()
  const infos = new Map<string, NodeBootInfo>()
  for (const node of nodes) {
    const r = res.get(node)
    const t = types.get(node)
    const image = t?.provmethod ? imageRows.get(t.provmethod) : undefined
    const macValue = macs.get(node)?.mac ?? undefined
    const ip = nodeIps.get(node)
    const server = r?.tftpserver || r?.xcatmaster || undefined
    const mac = installMac(macValue, node, r?.installnic ?? undefined)
    infos.set(node, {
      node,
      state: chains.get(node)?.currstate ?? '',
      params: bootparams.get(node),
      imageAddkcmdline: image && !image.boottarget ? (image.addkcmdline ?? undefined) : undefined,
      ip,
      aliasIps: macValue ? macAliasHosts(macValue).flatMap((h) => aliasIps.get(h) ?? []) : [],
      macs: mac ? [mac] : [],
      arch: t?.arch ?? undefined,
      os: t?.os ?? undefined,
      netboot: r?.netboot ?? undefined,
      facingIp: ip ? ipFacing(ip, local) : undefined,
      server,
      serverIp: server ? await addressOf(server, names) : undefined,
    })
  }
  return { infos, tftpdirOf: (node) => res.get(node)?.tftpdir || siteTftpdir || '/tftpboot', lookup: lookupAttr }
}
