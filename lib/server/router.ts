import { XcatError, xcatError } from '../errors.js'
import type { Logger } from '../log.js'
import { expandNoderange } from '../noderange.js'
import { all, first, type XcatRequest, type XcatResponse } from '../protocol/types.js'
import { perlRegex } from '../table/regex-value.js'
import type { Tables } from '../table/tables.js'
import type { PluginContext, XcatPlugin } from './plugin.js'
import type { PluginRegistry } from './plugin-registry.js'

/** Where a plugin's responses go. */
export type ResponseSink = (response: XcatResponse) => void

/** Sends a request copy to another xcatd (hierarchy); installed by the daemon. */
export type RemoteDispatch = (request: XcatRequest, dest: string, sink: ResponseSink, signal: AbortSignal) => Promise<void>

/** What the router needs around it. */
export interface RouterOptions {
  readonly registry: PluginRegistry
  readonly tables: Tables
  readonly log: Logger
  /** Sends requests whose `_xcatdest` names another xcatd there (hierarchy); without it everything runs here. */
  readonly remote?: RemoteDispatch
  /** True when a `_xcatdest` value names this server. */
  readonly isLocal?: (dest: string) => boolean
}

/** xCAT's node order inside a plugin's request: by the first number in the name, then by name. */
export function pluginNodeOrder(a: string, b: string): number {
  const na = Number(/(\d+)/.exec(a)?.[1] ?? -1)
  const nb = Number(/(\d+)/.exec(b)?.[1] ?? -1)
  return na - nb || (a < b ? -1 : a > b ? 1 : 0)
}

/** Which plugin handles which nodes (undefined: a node-less request). */
type Assignment = Map<string, Set<string> | undefined>

/** xcatd's plugin_command: expands the noderange, picks plugins by their handler specs and runs them. */
export class Router {
  readonly #opts: RouterOptions

  constructor(options: RouterOptions) {
    this.#opts = options
  }

  /** True when some plugin handles `command`. */
  handles(command: string): boolean {
    return this.#opts.registry.handlers(command).length > 0
  }

  /**
   * Runs `request`; resolves when every plugin is done. Unknown commands must be checked with {@link handles} first.
   * A request that cannot be dispatched at all (unknown nodes, no site.master) throws an XcatError.
   */
  async dispatch(request: XcatRequest, sink: ResponseSink, signal: AbortSignal): Promise<void> {
    const req: XcatRequest = { ...request }
    let nodes = req.node?.map(String) ?? []
    const range = first(req.noderange)
    if (nodes.length === 0 && range) {
      const { nodes: expanded, missing } = await expandNoderange(this.#opts.tables, range)
      if (missing.length > 0) throw xcatError('XCAT_ERR_BAD_NODERANGE', missing.join(','))
      if (expanded.length === 0) req.emptynoderange = ['1']
      nodes = expanded
    }
    if (nodes.length > 0) req.node = nodes
    const command = first(req.command) ?? ''
    const { assignment, unhandled, tableSpecs } = await this.#assign(command, nodes)
    if (tableSpecs.length > 0) {
      const where = tableSpecs.join(';').replace(/:/g, '.')
      for (const node of [...unhandled].sort(pluginNodeOrder)) {
        sink({ node: [{ name: [node], error: [`Unable to identify plugin for this command, check relevant tables: ${where}`], errorcode: ['1'] }] })
      }
    }
    if (nodes.length > 0 && !(await this.#opts.tables.site('master'))) throw xcatError('XCAT_ERR_NO_MASTER', command)
    const runs = [...assignment].map(([name, assigned]) => async () => {
      const plugin = this.#opts.registry.plugin(name)
      const copy: XcatRequest = { ...req }
      if (assigned) copy.node = [...assigned].sort(pluginNodeOrder)
      if (!plugin) {
        sink({ error: [`${name}: no such plugin is loaded${assigned ? ` [nodes: ${[...assigned].join(',')}]` : ''}`], errorcode: ['1'] })
        return
      }
      await this.#runPlugin(plugin, copy, sink, signal)
    })
    if (first(req.sequential) && first(req.sequential) !== '0') {
      const ordered = [...assignment.keys()].sort()
      for (const name of ordered) await runs[[...assignment.keys()].indexOf(name)]?.()
    } else {
      await Promise.all(runs.map((run) => run()))
    }
  }

  /** A context for `plugin` whose sub-requests come back through this router. */
  context(plugin: XcatPlugin, sink: ResponseSink, signal: AbortSignal): PluginContext {
    return {
      respond: sink,
      tables: this.#opts.tables,
      log: this.#opts.log.child({ plugin: plugin.name }),
      signal,
      subRequest: async (request, respond) => {
        const collected: XcatResponse[] = []
        const command = first(request.command) ?? ''
        const collect: ResponseSink = (r) => {
          collected.push(r)
          respond?.(r)
        }
        if (!this.handles(command)) {
          collect({ error: ['Unsupported request'] })
          return collected
        }
        try {
          await this.dispatch(request, collect, signal)
        } catch (err) {
          if (!(err instanceof XcatError)) throw err
          collect({ error: [err.message], errorcode: [String(err.errorcode)] })
        }
        return collected
      },
    }
  }

  async #runPlugin(plugin: XcatPlugin, request: XcatRequest, sink: ResponseSink, signal: AbortSignal): Promise<void> {
    const ctx = this.context(plugin, sink, signal)
    try {
      let requests: XcatRequest[] = [request]
      if (plugin.preprocessRequest && first(request._xcatpreprocessed) !== '1') {
        requests = (await plugin.preprocessRequest(request, ctx)) ?? []
      }
      const mod = first(request._modname)
      if (mod && mod !== plugin.name) return
      await Promise.all(
        requests.map(async (r) => {
          const copy: XcatRequest = { ...r }
          delete copy.noderange
          const dest = all(copy._xcatdest).join(',')
          if (dest && this.#opts.remote && !(this.#opts.isLocal?.(dest) ?? false)) {
            await this.#opts.remote({ ...copy, _modname: [plugin.name] }, dest, sink, signal)
            return
          }
          await plugin.processRequest(copy, ctx)
        }),
      )
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof XcatError) {
        sink({ error: [err.message], errorcode: [String(err.errorcode)] })
        return
      }
      const nodes = request.node?.length ? ` [nodes: ${request.node.join(',')}]` : ''
      const message = err instanceof Error ? err.message : String(err)
      this.#opts.log.error('plugin failed', { plugin: plugin.name, err: err instanceof Error ? err.stack : message })
      sink({ error: [`${plugin.name}: ${message}${nodes}`], errorcode: [String((err as { errorcode?: number }).errorcode ?? 1)] })
    }
  }

  async #assign(command: string, nodes: readonly string[]): Promise<{ assignment: Assignment; unhandled: Set<string>; tableSpecs: string[] }> {
    const assignment: Assignment = new Map()
    const unhandled = new Set(nodes)
    const globals: string[] = []
    const tableSpecs: string[] = []
    let useGlobals: 1 | 0 | -1 = 1
    let siteGlobal = false
    const claim = (plugin: string, node: string) => {
      const set = assignment.get(plugin) ?? new Set<string>()
      set.add(node)
      assignment.set(plugin, set)
    }
    for (const { plugin, spec } of this.#opts.registry.handlers(command)) {
      if (spec.startsWith('site:')) {
        const value = await this.#opts.tables.site(spec.slice(5))
        if (!value) continue
        useGlobals = -1
        if (nodes.length === 0) {
          assignment.set(value, undefined)
          siteGlobal = true
        }
        for (const n of nodes) claim(value, n)
      } else if (spec.includes(':')) {
        if (nodes.length === 0) continue
        if (!tableSpecs.includes(spec)) tableSpecs.push(spec)
        if (useGlobals === 1) useGlobals = 0
        await this.#claimByTable(plugin.name, spec, nodes, (owner, node) => {
          claim(owner, node)
          unhandled.delete(node)
        })
      } else {
        globals.push(spec)
      }
    }
    if (useGlobals === 1) {
      for (const g of globals) {
        if (nodes.length === 0) assignment.set(g, undefined)
        for (const n of nodes) claim(g, n)
      }
    } else if (useGlobals === 0) {
      for (const g of globals) {
        if (nodes.length === 0 && !siteGlobal) assignment.set(g, undefined)
        for (const n of unhandled) claim(g, n)
      }
    }
    return { assignment, unhandled, tableSpecs }
  }

  async #claimByTable(owner: string, spec: string, nodes: readonly string[], claim: (plugin: string, node: string) => void): Promise<void> {
    const [table = '', colSpec = ''] = spec.split(/:(.*)/s)
    const patterns = new Map<string, RegExp | null>()
    const columns = colSpec.split(',').map((c) => {
      const eq = c.indexOf('=')
      if (eq < 0) return c
      patterns.set(c.slice(0, eq), perlRegex(c.slice(eq + 1)))
      return c.slice(0, eq)
    })
    const ownerRe = perlRegex(owner)
    const values = await this.#opts.tables.getNodesAttribs(table, nodes, columns)
    for (const node of nodes) {
      const attrs = values.get(node)
      if (!attrs) continue
      for (const col of columns) {
        const v = attrs[col]
        if (v === undefined || v === null) continue
        const pattern = patterns.get(col)
        if (pattern !== undefined) {
          if (pattern?.test(v)) {
            claim(owner, node)
            break
          }
        } else if (ownerRe?.test(v)) {
          claim(v, node)
          break
        }
      }
    }
  }
}
