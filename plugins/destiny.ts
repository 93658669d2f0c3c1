import { bootParamsOf } from '../lib/boot/bootparams.js'
import { getDestiny, nextDestiny, setDestiny } from '../lib/boot/destiny.js'
import { expandNoderange } from '../lib/noderange.js'
import { all, first, type XcatRequest } from '../lib/protocol/types.js'
import type { PluginContext, XcatPlugin } from '../lib/server/plugin.js'

/** The nodes a request is about: its node list, else the node the request came from (undefined: not a node). */
async function requestNodes(req: XcatRequest, ctx: PluginContext): Promise<string[] | undefined> {
  const nodes = all(req.node)
  if (nodes.length > 0) return nodes
  const client = first(req._xcat_clienthost)
  if (!client) return undefined
  const found = (await expandNoderange(ctx.tables, client)).nodes
  return found.length > 0 ? found.slice(0, 1) : undefined
}

/** xCAT's destiny plugin: where nodes are in their boot chain (setdestiny, getdestiny, nextdestiny). */
const plugin: XcatPlugin = {
  name: 'destiny',
  handledCommands: () => ({ setdestiny: 'destiny', getdestiny: 'destiny', nextdestiny: 'destiny' }),
  async processRequest(req, ctx) {
    const command = first(req.command)
    if (command === 'setdestiny') {
      await setDestiny(ctx, { nodes: all(req.node), args: all(req.arg), bootparams: bootParamsOf(req) })
      return
    }
    const nodes = await requestNodes(req, ctx)
    if (command === 'getdestiny') {
      if (nodes) await getDestiny(ctx, nodes)
      else ctx.respond({ destiny: ['discover'] })
      return
    }
    if (nodes) await nextDestiny(ctx, nodes, { bootparams: bootParamsOf(req), callNodeset: true })
  },
}

export default plugin
