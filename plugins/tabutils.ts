import { first } from '../lib/protocol/types.js'
import type { XcatPlugin } from '../lib/server/plugin.js'
import { nodeadd, nodech, noderm } from '../lib/tabutils/nodech.js'
import { nodels } from '../lib/tabutils/nodels.js'
import { tabch } from '../lib/tabutils/tabch.js'
import { tabdump } from '../lib/tabutils/tabdump.js'
import { tabrestore } from '../lib/tabutils/tabrestore.js'

const COMMANDS = { tabdump, tabrestore, tabch, nodels, nodeadd, nodech, noderm } as const

/** xCAT's tabutils plugin: table dump/restore/change and the node table commands. */
const plugin: XcatPlugin = {
  name: 'tabutils',
  handledCommands: () => Object.fromEntries(Object.keys(COMMANDS).map((c) => [c, 'tabutils'])),
  async processRequest(req, ctx) {
    const command = first(req.command) as keyof typeof COMMANDS
    await COMMANDS[command](req, ctx)
  },
}

export default plugin
