import type { Logger } from '../log.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import type { Tables } from '../table/tables.js'

/** What a plugin may use while it handles a request; it mirrors the callback and sub-request of xCAT's plugins. */
export interface PluginContext {
  /** Sends one response to the client (xCAT's `$callback->(\%rsp)`). */
  respond(response: XcatResponse): void
  /** Runs another command in-process through the router and collects its responses (xCAT's `$subreq`). */
  subRequest(request: XcatRequest, respond?: (response: XcatResponse) => void): Promise<XcatResponse[]>
  /** The xCAT tables. */
  readonly tables: Tables
  /** Where the plugin logs. */
  readonly log: Logger
  /** Aborted when the client sends `abortcommand` or goes away. */
  readonly signal: AbortSignal
}

/** A command handler specification: `module`, `site:key`, `table:col[,col]` or `table:col=REGEX`. */
export type HandlerSpec = string | readonly string[]

/**
 * An xCAT plugin. `handledCommands` maps each command to how nodes are routed to this plugin, exactly as xCAT's
 * `handled_commands` does; `preprocessRequest` may split a request, `processRequest` does the work.
 * @example
 * const plugin: XcatPlugin = {
 *   name: 'tabutils',
 *   handledCommands: () => ({ tabdump: 'tabutils' }),
 *   async processRequest(req, ctx) { ctx.respond({ data: ['#key,value,comments,disable'] }) },
 * }
 */
export interface XcatPlugin {
  readonly name: string
  handledCommands(): Readonly<Record<string, HandlerSpec>>
  preprocessRequest?(request: XcatRequest, ctx: PluginContext): Promise<XcatRequest[] | undefined>
  processRequest(request: XcatRequest, ctx: PluginContext): Promise<void>
}

/** True when `value` has the shape of an {@link XcatPlugin}. */
export function isXcatPlugin(value: unknown): value is XcatPlugin {
  if (typeof value !== 'object' || value === null) return false
  const p = value as Record<string, unknown>
  return typeof p.name === 'string' && p.name !== '' && typeof p.handledCommands === 'function' && typeof p.processRequest === 'function' && (p.preprocessRequest === undefined || typeof p.preprocessRequest === 'function')
}
