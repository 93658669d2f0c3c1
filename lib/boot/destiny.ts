import { chmod, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { getopt } from '../getopt.js'
import { failedNodesOf, nodeErrorResponse } from '../server/respond.js'
import type { NodeResponse } from '../protocol/types.js'
import type { PluginContext } from '../server/plugin.js'
import { advanceChain } from './chain.js'
import { nodeBootParams, type BootParamsHash } from './bootparams.js'
import { genesisStateParams } from './genesis-state.js'
import { resolveNodeIps } from './node-ip.js'
import { resolveOsimageStates } from './osimage-state.js'

const LEGACY = new Set(['install', 'netboot', 'statelite'])
/** Nodes per getdestiny response: one response per node costs more than the work at 10,000 nodes. */
const RESPONSE_BATCH = 500

/** A setdestiny call: the nodes, the user's state argument(s) and the request's shared boot parameters. */
export interface DestinyRequest {
  readonly nodes: readonly string[]
  readonly args: readonly string[]
  readonly bootparams: BootParamsHash
  /** `enact`: regenerate from chain.currstate without table updates. */
  readonly noupdate?: boolean
}

async function tftpdirs(ctx: PluginContext, nodes: readonly string[]): Promise<(node: string) => string> {
  const [rows, site] = await Promise.all([ctx.tables.getNodesAttribs('noderes', nodes, ['tftpdir']), ctx.tables.site('tftpdir')])
  return (node) => rows.get(node)?.tftpdir || site || '/tftpboot'
}

async function makeReadable(dir: string): Promise<void> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  await Promise.all(
    entries.map(async (e) => {
      const path = join(dir, e.name)
      if (e.isSymbolicLink()) return
      const mode = (await stat(path)).mode
      if ((mode & 0o444) !== 0o444) await chmod(path, (mode & 0o7777) | 0o444)
      if (e.isDirectory()) await makeReadable(path)
    }),
  )
}

/** Runs mk<state> for the nodes of each state; returns the nodes whose mk<state> reported an error. */
async function runMkState(ctx: PluginContext, byState: Map<string, string[]>, opts: Record<string, unknown>, bootparams: BootParamsHash): Promise<Set<string>> {
  const failed = new Set<string>()
  for (const [state, nodes] of byState) {
    await ctx.subRequest({ command: [`mk${state}`], node: nodes, ...opts, bootparams: [bootparams] }, (r) => {
      ctx.respond(r)
      for (const n of failedNodesOf(r)) failed.add(n)
    })
  }
  return failed
}

/** The chain states `<state> <os>-<arch>[-<profile>]` of nodes after mk<state>, with xCAT's errors for gaps. */
async function provisionStates(ctx: PluginContext, byState: Map<string, string[]>, failed: Set<string>): Promise<Map<string, string>> {
  const nstates = new Map<string, string>()
  const nodes = [...byState.values()].flat()
  const types = await ctx.tables.getNodesAttribs('nodetype', nodes, ['os', 'arch', 'profile'])
  for (const [state, group] of byState) {
    for (const node of group) {
      if (failed.has(node)) continue
      const t = types.get(node)
      const fail = (attr: string) => {
        failed.add(node)
        ctx.respond(nodeErrorResponse(node, `nodetype.${attr} not defined for ${node}.`))
      }
      if (state !== 'winshell' && !t?.os) fail('os')
      else if (!t?.arch) fail('arch')
      else if (state !== 'winshell' && state !== 'sysclone' && !t.profile) fail('profile')
      else nstates.set(node, `${state} ${state === 'winshell' ? 'winpe' : t.os}-${t.arch}${state === 'winshell' || state === 'sysclone' ? '' : `-${t.profile}`}`)
    }
  }
  return nstates
}

/** The osimage branch of setdestiny; undefined when the request stops. */
async function osimageDestiny(ctx: PluginContext, req: DestinyRequest, state: string, opts: Record<string, unknown>, failed: Set<string>): Promise<Map<string, string> | undefined> {
  const eq = state.indexOf('=')
  let base = eq < 0 ? state : state.slice(0, eq)
  let target = eq < 0 ? undefined : state.slice(eq + 1)
  if (eq >= 0 && !target) {
    ctx.respond({ error: [`invalid argument: "${state}"`], errorcode: ['1'] })
    return undefined
  }
  if (target?.includes(':')) target = target.slice(0, target.indexOf(':'))
  if (eq < 0 && base.includes(':')) base = base.slice(0, base.indexOf(':'))
  if (base !== 'osimage') {
    ctx.respond({ error: ['The options "install", "netboot", and "statelite" have been deprecated, use "osimage=<osimage_name>" instead.'], errorcode: ['1'] })
    return undefined
  }
  const { states, abort } = await resolveOsimageStates(ctx, req.nodes, target)
  if (abort) return undefined
  for (const n of req.nodes) if (!states.has(n)) failed.add(n)
  if (states.size === 0) {
    ctx.respond({ errorcode: ['1'] })
    return undefined
  }
  const installdir = (await ctx.tables.site('installdir')) || '/install'
  await makeReadable(join(installdir, 'postscripts'))
  const byState = new Map<string, string[]>()
  for (const [node, s] of states) byState.set(s, [...(byState.get(s) ?? []), node])
  for (const n of await runMkState(ctx, byState, opts, req.bootparams)) failed.add(n)
  return provisionStates(ctx, byState, failed)
}

/** `nodeset boot`: nodetype.provmethod blanked unless the node's image installs to disk (install or sysclone). */
async function blankProvmethods(ctx: PluginContext, nodes: readonly string[]): Promise<void> {
  const types = await ctx.tables.getNodesAttribs('nodetype', nodes, ['provmethod'])
  const images = [...new Set([...types.values()].map((t) => t.provmethod ?? '').filter((p) => p && !LEGACY.has(p)))]
  const rows = await ctx.tables.getRowsIn('osimage', 'imagename', images, ['imagename', 'provmethod'])
  const methodOf = new Map(rows.map((r) => [r.imagename ?? '', r.provmethod ?? '']))
  const blank = nodes.filter((n) => {
    const p = types.get(n)?.provmethod
    if (!p) return false
    const method = methodOf.get(p) || p
    return method !== 'install' && method !== 'sysclone'
  })
  await ctx.tables.setNodesAttribs('nodetype', new Map(blank.map((n) => [n, { provmethod: '' }])))
}

/** `enact`: each node's current state applied again, grouped by state, without table updates. */
async function enactDestiny(ctx: PluginContext, req: DestinyRequest): Promise<void> {
  const [chains, types] = await Promise.all([ctx.tables.getNodesAttribs('chain', req.nodes, ['currstate']), ctx.tables.getNodesAttribs('nodetype', req.nodes, ['provmethod'])])
  const groups = new Map<string, string[]>()
  for (const node of req.nodes) {
    let state = chains.get(node)?.currstate?.replace(/ .*/s, '')
    if (!state || state === 'ondiscover') continue
    const image = types.get(node)?.provmethod
    if ((LEGACY.has(state) || state === 'sysclone') && image && !LEGACY.has(image)) state = `osimage=${image}`
    groups.set(state, [...(groups.get(state) ?? []), node])
  }
  for (const [state, nodes] of groups) await setDestiny(ctx, { ...req, nodes, args: [state], noupdate: true })
}

/**
 * xCAT's setdestiny: applies the requested state to the nodes (tables, mk<state> sub-requests, boot parameters in
 * `req.bootparams`) and answers with getdestiny. Per-node problems are node errors; the other nodes go on.
 */
export async function setDestiny(ctx: PluginContext, req: DestinyRequest): Promise<void> {
  if (req.nodes.length === 0) return
  const { opts, args } = getopt(req.args, ['noupdateinitrd', 'ignorekernelchk', 'V'], { passThrough: true })
  const addk = await ctx.tables.getNodesAttribs('bootparams', req.nodes, ['addkcmdline'])
  for (const [node, row] of addk) if (row.addkcmdline) nodeBootParams(req.bootparams, node).addkcmdline = row.addkcmdline
  const [first = '', ...more] = (args[0] ?? '').split(',')
  const state = first.trim()
  const reststates = more.join(',')
  const failed = new Set<string>()
  let nstates = new Map<string, string>()
  if (state === 'enact') return enactDestiny(ctx, req)
  if (state === 'next') return nextDestiny(ctx, req.nodes, { bootparams: req.bootparams })
  if (/^(install|netboot|statelite)([=$:]|$)/.test(state) || state === 'image' || state === 'winshell' || state.startsWith('osimage')) {
    const mkOpts = { noupdateinitrd: opts.noupdateinitrd ? ['1'] : undefined, ignorekernelchk: opts.ignorekernelchk ? ['1'] : undefined }
    const result = await osimageDestiny(ctx, req, state, mkOpts, failed)
    if (!result) return
    nstates = result
  } else if (state === 'shell' || state === 'standby' || state.startsWith('runcmd') || state.startsWith('runimage')) {
    if (state.startsWith('runimage') && !state.split('=')[1]) {
      ctx.respond({ error: ['An image path should be specified to runimage.'], errorcode: ['1'] })
      return
    }
    const [dirs, ips] = await Promise.all([tftpdirs(ctx, req.nodes), resolveNodeIps(ctx.tables, req.nodes)])
    for (const n of await genesisStateParams(ctx, { nodes: req.nodes, state, bootparams: req.bootparams, tftpdir: dirs, nodeIps: ips })) failed.add(n)
  } else if (state !== 'offline' && state !== 'shutdown' && state !== 'boot') {
    ctx.respond({ error: [`Unknown state ${state} requested`], errorcode: ['1'] })
    return
  }
  const normal = req.nodes.filter((n) => !failed.has(n))
  if (normal.length === 0) return
  if (state === 'boot') await blankProvmethods(ctx, normal)
  // provisioned nodes boot from disk next (currchain=boot), unless the request gave more states to go through
  const chainOf = (n: string) => reststates || (nstates.has(n) ? 'boot' : undefined)
  const updates = new Map<string, Record<string, string>>()
  for (const n of normal) {
    const currchain = chainOf(n)
    const row: Record<string, string> = req.noupdate ? {} : { currstate: nstates.get(n) ?? state }
    if (currchain && !(req.noupdate && reststates)) row.currchain = currchain
    if (Object.keys(row).length) updates.set(n, row)
  }
  await ctx.tables.setNodesAttribs('chain', updates)
  if (!req.noupdate) await getDestiny(ctx, normal)
}

/** xCAT's nextdestiny: each node moves to the next state of its chain, which is then applied. */
export async function nextDestiny(ctx: PluginContext, nodes: readonly string[], options: { bootparams: BootParamsHash; callNodeset?: boolean }): Promise<void> {
  const chains = await ctx.tables.getNodesAttribs('chain', nodes, ['currstate', 'currchain', 'chain'])
  const updates = new Map<string, { currstate: string; currchain: string }>()
  let callNodeset = options.callNodeset ?? false
  for (const node of nodes) {
    const next = advanceChain(chains.get(node) ?? {})
    if (!next) {
      ctx.log.warn('node requested destiny update, no path in chain.currchain', { node })
      continue
    }
    if (next.standby) callNodeset = false
    updates.set(node, { currstate: next.currstate, currchain: next.currchain })
  }
  await ctx.tables.setNodesAttribs('chain', updates)
  const groups = new Map<string, string[]>()
  for (const [node, { currstate }] of updates) groups.set(currstate, [...(groups.get(currstate) ?? []), node])
  for (const [state, group] of groups) {
    const args = /noupdateinitrd$/.test(state) ? state.split(':') : [state]
    await setDestiny(ctx, { nodes: group, args, bootparams: options.bootparams })
  }
  if (callNodeset && updates.size > 0) await ctx.subRequest({ command: ['nodeset'], node: [...updates.keys()], arg: ['enact'] })
}

/** xCAT's getdestiny: each node's state with the boot parameters and image server genesis asks for. */
export async function getDestiny(ctx: PluginContext, nodes: readonly string[]): Promise<void> {
  const [chains, res, bp, master] = await Promise.all([
    ctx.tables.getNodesAttribs('chain', nodes, ['currstate', 'chain']),
    ctx.tables.getNodesAttribs('noderes', nodes, ['tftpserver', 'xcatmaster']),
    ctx.tables.getNodesAttribs('bootparams', nodes, ['kernel', 'initrd', 'kcmdline']),
    ctx.tables.site('master'),
  ])
  const batch: NodeResponse[] = []
  const flush = () => batch.length && ctx.respond({ node: batch.splice(0) })
  for (const node of nodes) {
    const chain = chains.get(node)
    if (!chain) {
      batch.push({ name: [node], data: ['standby'], destiny: ['standby'] })
      continue
    }
    if (!chain.currstate) {
      flush()
      await nextDestiny(ctx, [node], { bootparams: new Map(), callNodeset: true })
      continue
    }
    const response: Record<string, string[]> & { name: string[] } = { name: [node], data: [chain.currstate], destiny: [chain.currstate] }
    const params = bp.get(node)
    for (const key of ['kernel', 'initrd', 'kcmdline'] as const) if (params?.[key] != null) response[key] = [params[key] ?? '']
    const r = res.get(node)
    const imgserver = r?.tftpserver || r?.xcatmaster || master
    if (imgserver) response.imgserver = [imgserver]
    batch.push(response)
    if (batch.length >= RESPONSE_BATCH) flush()
  }
  flush()
}
