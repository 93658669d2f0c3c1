import { nodeErrorResponse } from '../server/respond.js'
import type { PluginContext } from '../server/plugin.js'
import type { Row } from '../table/driver.js'

const LEGACY = new Set(['install', 'netboot', 'statelite'])

/** xCAT's lookupNetboot: the noderes.netboot values that can boot an image of this OS and architecture. */
export function validNetboots(osvers: string, osarch: string, imagetype: string): string {
  const m = /(\D+)(\d+)(?:\.(\d+))?/.exec(osvers)
  const [osv, osn, osm] = [m?.[1] ?? '', Number(m?.[2] ?? 0), Number(m?.[3] ?? 0)]
  if (/^NIM$/i.test(imagetype)) return 'nimol'
  if (!/^Linux$/i.test(imagetype)) return ''
  if (/^x86_64$/i.test(osarch)) return 'xnba,pxe,grub2'
  if (/^ppc64$/i.test(osarch)) {
    if ((/rh/i.test(osv) && osn < 7) || (/sles/i.test(osv) && (osn < 11 || (osn === 11 && osm < 4)))) return 'yaboot'
    return /pkvm/i.test(osv) ? 'petitboot' : 'grub2,grub2-tftp,grub2-http'
  }
  if (/^ppc64(le|el)$/i.test(osarch)) return 'petitboot,grub2,grub2-tftp,grub2-http'
  return /^aarch64$/i.test(osarch) ? 'grub2' : ''
}

function netbootMatches(valid: string, current: string): boolean {
  return valid.toLowerCase().includes(current.toLowerCase())
}

function netbootWarning(nodes: readonly string[], current: string, image: string, valid: string): string {
  return `${nodes.join(',')}: ${current} might be invalid when provisioning ${image},valid options: "${valid}". \nFor more details see the 'netboot' description in the output of "tabdump -d noderes".`
}

/** What the osimage state resolved to: the state (osimage.provmethod) of each node that can go on. */
export interface OsimageStates {
  readonly states: Map<string, string>
  /** True when the whole request must stop (xCAT's errorabort). */
  readonly abort: boolean
}

async function imageRows(ctx: PluginContext, names: readonly string[]): Promise<Map<string, Row>> {
  const rows = await ctx.tables.getRowsIn('osimage', 'imagename', [...names], ['imagename', 'provmethod', 'osvers', 'profile', 'osarch', 'imagetype'])
  return new Map(rows.map((r) => [r.imagename ?? '', r]))
}

/** `osimage=<target>`: every node gets the image's provmethod as its state and nodetype is set from the image. */
async function namedImage(ctx: PluginContext, nodes: readonly string[], target: string, netboot: string): Promise<OsimageStates> {
  const ref = (await imageRows(ctx, [target])).get(target)
  if (!ref) {
    ctx.respond({ errorcode: ['1'], error: [`Cannot find the OS image ${target} in the osimage table.`] })
    return { states: new Map(), abort: true }
  }
  if (!ref.provmethod) {
    ctx.respond({ errorcode: ['1'], error: [`osimage.provmethod for ${target} must be set.`] })
    return { states: new Map(), abort: true }
  }
  const valid = validNetboots(ref.osvers ?? '', ref.osarch ?? '', ref.imagetype ?? '')
  if (!netbootMatches(valid, netboot)) ctx.respond({ warning: [netbootWarning(nodes, netboot, target, valid)] })
  const update = { provmethod: target, profile: ref.profile ?? null, os: ref.osvers ?? null, arch: ref.osarch ?? null }
  await ctx.tables.setNodesAttribs('nodetype', new Map(nodes.map((n) => [n, update])))
  return { states: new Map(nodes.map((n) => [n, ref.provmethod ?? ''])), abort: false }
}

/** Bare `osimage`: each node's nodetype.provmethod names its image. */
async function eachNodesImage(ctx: PluginContext, nodes: readonly string[], netboot: string): Promise<OsimageStates> {
  const provmethods = await ctx.tables.getNodesAttribs('nodetype', nodes, ['provmethod'])
  const imageOf = new Map(nodes.map((n) => [n, provmethods.get(n)?.provmethod ?? '']))
  const names = [...new Set([...imageOf.values()].filter((i) => i && !LEGACY.has(i)))]
  const rows = await imageRows(ctx, names)
  const states = new Map<string, string>()
  const badNetboot = new Map<string, { nodes: string[]; valid: string }>()
  const updates = new Map<string, Record<string, string>>()
  for (const node of nodes) {
    const image = imageOf.get(node) ?? ''
    const ref = rows.get(image)
    let error: string | undefined
    if (!image || LEGACY.has(image)) error = 'OS image name must be specified in nodetype.provmethod'
    else if (!ref) error = `Cannot find the OS image ${image} in the osimage table`
    else {
      const valid = validNetboots(ref.osvers ?? '', ref.osarch ?? '', ref.imagetype ?? '')
      if (!netbootMatches(valid, netboot)) {
        const entry = badNetboot.get(image) ?? { nodes: [], valid }
        entry.nodes.push(node)
        badNetboot.set(image, entry)
        continue
      }
      if (!(ref.provmethod && ref.profile && ref.osvers && ref.osarch)) error = `osimage.provmethod, osimage.osvers, osimage.osarch and osimage.profile for ${image} must be set`
    }
    if (error || !ref) {
      ctx.respond(nodeErrorResponse(node, error ?? ''))
      continue
    }
    states.set(node, ref.provmethod ?? '')
    updates.set(node, { profile: ref.profile ?? '', os: ref.osvers ?? '', arch: ref.osarch ?? '' })
  }
  for (const [image, { nodes: bad, valid }] of badNetboot) ctx.respond({ warning: [netbootWarning(bad, netboot, image, valid)] })
  await ctx.tables.setNodesAttribs('nodetype', updates)
  return { states, abort: false }
}

/** setdestiny's osimage[=<image>] state: nodetype updated, nodes without a MAC dropped with xCAT's error. */
export async function resolveOsimageStates(ctx: PluginContext, nodes: readonly string[], target: string | undefined): Promise<OsimageStates> {
  const netboot = (await ctx.tables.getNodeAttribs('noderes', nodes[0] ?? '', ['netboot']))?.netboot ?? ''
  const resolved = target ? await namedImage(ctx, nodes, target, netboot) : await eachNodesImage(ctx, nodes, netboot)
  if (resolved.abort || resolved.states.size === 0) return resolved
  const macs = await ctx.tables.getNodesAttribs('mac', [...resolved.states.keys()], ['mac'])
  for (const node of [...resolved.states.keys()]) {
    if (macs.get(node)?.mac) continue
    ctx.respond(nodeErrorResponse(node, 'No MAC address available for this node'))
    resolved.states.delete(node)
  }
  return resolved
}
