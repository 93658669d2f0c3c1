import { XcatError } from '../errors.js'
import type { Logger } from '../log.js'
import { expandNoderange } from '../noderange.js'
import { serverDone } from '../protocol/codec.js'
import { first, type XcatRequest, type XcatResponse } from '../protocol/types.js'
import type { Tables } from '../table/tables.js'
import { VERSION } from '../version.js'
import { authorize, isTrusted, type Peer } from './policy.js'
import type { Router } from './router.js'

/** Everything known about the client of one request. */
export interface ClientIdentity extends Peer {
  readonly fqdn: string
  readonly port: number
}

/** Commands whose authorisation xCAT never logs (node boot traffic). */
const UNLOGGED = new Set(['getdestiny', 'getbladecons', 'getipmicons', 'getopenbmccons', 'getcons'])

/**
 * What xcatd does with one request once it is read: the policy check, the identity fields plugins rely on, the
 * built-in commands, dispatch to plugins, and the final `serverdone`.
 */
export class RequestExecutor {
  constructor(private readonly deps: { readonly tables: Tables; readonly router: Router; readonly log: Logger }) {}

  /** site.auditskipcmds: commands whose authorisation is not logged (`ALL`, xcatconfig's default, skips them all). */
  async #auditSkips(command: string): Promise<boolean> {
    const skip = (await this.deps.tables.site('auditskipcmds')) ?? ''
    return skip.split(',').some((c) => c.trim().toUpperCase() === 'ALL' || c.trim() === command)
  }

  /** Runs `request` for `client`; every response, ending with serverdone, goes to `send`. */
  async execute(request: XcatRequest, client: ClientIdentity, send: (r: XcatResponse) => void, signal: AbortSignal): Promise<void> {
    const { tables, router, log } = this.deps
    const req: XcatRequest = { ...request }
    const command = first(req.command) ?? ''
    const done = (extra: XcatResponse = {}) => send({ ...extra, ...serverDone(req) })
    try {
      const version = first(req._xcatver)
      if (version && version !== VERSION) send({ warning: [`xCAT Version mismatch! \n         ${client.host}: ${version}\n         this server: ${VERSION}\n`] })
      const rules = await tables.getAllEntries('policy')
      const allowed = await authorize(rules, client, req, { expand: async (range) => (await expandNoderange(tables, range)).nodes })
      if (!allowed) log.warn('denying request', { command, user: client.name, host: client.host })
      else if (!UNLOGGED.has(command) && !(await this.#auditSkips(command))) log.info('allowing request', { command, user: client.name, host: client.host })
      if (!allowed) return done({ error: ['Permission denied for request'], errorcode: ['1'] })
      if (!(first(req.username) !== undefined && isTrusted(rules, client))) req.username = client.name === undefined ? [] : [client.name]
      req._xcat_authname = client.name === undefined ? [] : [client.name]
      req._xcat_clienthost = [client.host]
      req._xcat_clientfqdn = [client.fqdn]
      req._xcat_clientport = [String(client.port)]
      if (command === 'authcheck') {
        return done(client.name !== undefined ? { username: [client.name], data: ['Authenticated'] } : { data: ['Unauthenticated'] })
      }
      if (router.handles(command)) {
        await router.dispatch(req, send, signal)
        return done()
      }
      const range = first(req.noderange)
      if (command === 'noderange' && range !== undefined) {
        const { nodes, missing } = await expandNoderange(tables, range)
        return done({ node: nodes as unknown as NonNullable<XcatResponse['node']>, ...(missing.length ? { warning: [`Invalid nodes in noderange:${missing.join(',')}`] } : {}) })
      }
      log.warn('unsupported request', { command, user: client.name, host: client.host })
      return done({ error: ['Unsupported request'] })
    } catch (err) {
      if (signal.aborted) return done()
      log.error('request failed', { command, err: err instanceof Error ? err.stack : String(err) })
      const message = err instanceof Error ? err.message : String(err)
      return done({ error: [message], errorcode: [String(err instanceof XcatError ? err.errorcode : 1)] })
    }
  }
}
