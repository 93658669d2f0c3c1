import { hostname } from 'node:os'
import { all, type XcatRequest } from '../protocol/types.js'
import type { PluginContext, XcatPlugin } from '../server/plugin.js'
import { failedNodesOf, nodeErrorResponse } from '../server/respond.js'
import { applyBootFiles, nodesetStat } from './apply.js'
import { readBootInfo } from './boot-info.js'
import type { BootParamsHash } from './bootparams.js'
import { resolveNodeIps } from './node-ip.js'
import { parseNodesetArgs } from './nodeset-usage.js'
import { fsBootProbe } from './probe.js'
import { rendererFor } from './render.js'
import type { BootFiles, BootLoader, SiteBootSettings } from './types.js'

/** Node names that are safe as file names and config words: letters, digits, '.', '_' and '-'. */
const NODE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

/** The boot plugins' preprocess_request: usage, version and argument errors answered here, nothing else dispatched. */
export async function preprocessNodeset(req: XcatRequest, ctx: PluginContext): Promise<XcatRequest[] | undefined> {
  const parsed = parseNodesetArgs(req)
  if ('reply' in parsed) {
    ctx.respond(parsed.reply)
    return undefined
  }
  return [req]
}

async function stat(ctx: PluginContext, loader: BootLoader, nodes: readonly string[]): Promise<void> {
  const [rows, site] = await Promise.all([ctx.tables.getNodesAttribs('noderes', nodes, ['tftpdir']), ctx.tables.site('tftpdir')])
  for (const node of nodes) ctx.respond({ node: [{ name: [node], data: [nodesetStat(rows.get(node)?.tftpdir || site || '/tftpboot', loader, node)] }] })
}

/** The nodes that can have boot files: a safe name and an address; the others get a node error. */
async function usableNodes(ctx: PluginContext, nodes: readonly string[]): Promise<{ usable: string[]; ips: Map<string, string> }> {
  const named = nodes.filter((n) => {
    if (NODE_NAME.test(n)) return true
    ctx.respond(nodeErrorResponse(n, `Invalid node name "${n}": boot files are only written for names of letters, digits, '.', '_' and '-'`))
    return false
  })
  const ips = await resolveNodeIps(ctx.tables, named)
  const usable = named.filter((n) => {
    if (ips.has(n)) return true
    ctx.respond(nodeErrorResponse(n, `The ${n} can not be resolved.`))
    return false
  })
  return { usable, ips }
}

async function siteSettings(ctx: PluginContext): Promise<Omit<SiteBootSettings, 'tftpdir'>> {
  const [httpport, httpmethod, debugmode] = await Promise.all(['httpport', 'httpmethod', 'xcatdebugmode'].map((k) => ctx.tables.site(k)))
  return { httpport: httpport || '80', httpmethod: httpmethod || 'http', debugmode }
}

/** Renders and writes the boot files of the nodes for their current chain state; render failures become node errors. */
async function writeBootFiles(ctx: PluginContext, loader: BootLoader, nodes: readonly string[], bootparams: BootParamsHash, ips: Map<string, string>): Promise<void> {
  const batch = await readBootInfo(ctx.tables, nodes, bootparams, ips)
  const site = await siteSettings(ctx)
  const probe = fsBootProbe(batch.lookup)
  const render = rendererFor(loader)
  const byTftpdir = new Map<string, BootFiles[]>()
  for (const node of nodes) {
    const info = batch.infos.get(node)
    if (!info) continue
    const tftpdir = batch.tftpdirOf(node)
    try {
      const files = render(info, { ...site, tftpdir }, probe)
      byTftpdir.set(tftpdir, [...(byTftpdir.get(tftpdir) ?? []), files])
    } catch (err) {
      ctx.respond(nodeErrorResponse(node, err instanceof Error ? err.message : String(err)))
    }
  }
  for (const [tftpdir, sets] of byTftpdir) {
    try {
      applyBootFiles(tftpdir, sets)
    } catch (err) {
      ctx.respond({ error: [err instanceof Error ? err.message : String(err)], errorcode: ['1'] })
    }
  }
}

/**
 * One boot-loader plugin's nodeset: setdestiny for the nodes (which runs mk<state>), then that loader's boot files
 * for every node that got its state, then makedhcp. Nodes that fail anywhere get no files.
 */
export async function processNodeset(loader: BootLoader, req: XcatRequest, ctx: PluginContext): Promise<void> {
  const parsed = parseNodesetArgs(req)
  if ('reply' in parsed) return
  const requested = all(req.node)
  if (parsed.state === 'stat') return stat(ctx, loader, requested)
  const { usable, ips } = await usableNodes(ctx, requested)
  if (usable.length === 0) {
    ctx.respond({ error: [`Failed to generate ${loader} configurations for some node(s) on ${hostname()}. Check xCAT log file for more details.`], errorcode: ['1'] })
    return
  }
  const bootparams: BootParamsHash = new Map()
  const failed = new Set<string>()
  let aborted = false
  await ctx.subRequest({ command: ['setdestiny'], node: usable, arg: all(req.arg), inittime: ['0'], bootparams: [bootparams] }, (r) => {
    ctx.respond(r)
    for (const n of failedNodesOf(r)) failed.add(n)
    if (r.error?.length || (r.errorcode?.length && String(r.errorcode[0]) !== '0')) aborted = true
  })
  if (aborted) return
  const nodes = usable.filter((n) => !failed.has(n))
  if (nodes.length === 0) return
  await writeBootFiles(ctx, loader, nodes, bootparams, ips)
  const dhcpsetup = await ctx.tables.site('dhcpsetup')
  if (/^(n|no|0)$/i.test(dhcpsetup ?? '')) return
  await ctx.subRequest({ command: ['makedhcp'], node: nodes, arg: parsed.state === 'offline' ? ['-d'] : [] }, (r) => {
    if (!r.error?.includes('Unsupported request')) ctx.respond(r)
  })
}

/** A boot-loader plugin (xnba, pxe, grub2, petitboot): nodeset for the nodes whose noderes.netboot selects it. */
export function bootLoaderPlugin(loader: BootLoader, spec: string): XcatPlugin {
  return {
    name: loader,
    handledCommands: () => ({ nodeset: spec }),
    preprocessRequest: preprocessNodeset,
    processRequest: (req, ctx) => processNodeset(loader, req, ctx),
  }
}
