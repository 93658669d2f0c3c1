import { advanceChain } from '../lib/boot/chain.js'
import { expandNoderange } from '../lib/noderange.js'
import { all, first } from '../lib/protocol/types.js'
import type { XcatPlugin } from '../lib/server/plugin.js'

/** xCAT's destiny plugin: where nodes are in their boot chain. */
const plugin: XcatPlugin = {
  name: 'destiny',
  handledCommands: () => ({ nextdestiny: 'destiny' }),
  async processRequest(req, ctx) {
    let nodes = all(req.node)
    if (nodes.length === 0) {
      const client = first(req._xcat_clienthost)
      if (!client) return
      nodes = (await expandNoderange(ctx.tables, client)).nodes
      if (nodes.length === 0) return
    }
    const chains = await ctx.tables.getNodesAttribs('chain', nodes, ['currstate', 'currchain', 'chain'])
    const updates = new Map<string, Record<string, string>>()
    for (const node of nodes) {
      const next = advanceChain(chains.get(node) ?? {})
      if (!next) {
        ctx.log.warn('node requested destiny update, no path in chain.currchain', { node })
        continue
      }
      updates.set(node, { currstate: next.currstate, currchain: next.currchain })
    }
    await ctx.tables.setNodesAttribs('chain', updates)
    for (const [node, { currstate = '' }] of updates) ctx.respond({ node: [{ name: [node], data: [currstate] }] })
  },
}

export default plugin
