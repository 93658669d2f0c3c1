import { NODESET_USAGE } from '../lib/boot/nodeset-usage.js'
import { all } from '../lib/protocol/types.js'
import type { XcatPlugin } from '../lib/server/plugin.js'
import { versionString } from '../lib/version.js'

const USAGE: Readonly<Record<string, string>> = { nodeset: NODESET_USAGE }

/** xCAT's AAAusage plugin: usage for commands whose real handlers are picked per node, when no node picks one. */
const plugin: XcatPlugin = {
  name: 'AAAusage',
  handledCommands: () => Object.fromEntries(Object.keys(USAGE).map((c) => [c, 'AAAusage'])),
  async preprocessRequest(req, ctx) {
    const command = all(req.command)[0] ?? ''
    let args = all(req.arg)
    if ((args.length === 0 || (args.length === 1 && /^\s*$/.test(args[0] ?? ''))) && all(req.node).length === 0) args = ['--help']
    if (args.some((a) => /^(-h|--help|-\?)$/.test(a))) ctx.respond({ data: [USAGE[command] ?? ''] })
    else if (args.some((a) => /^(-v|--version)$/.test(a))) ctx.respond({ data: [versionString()] })
    return undefined
  },
  async processRequest() {},
}

export default plugin
