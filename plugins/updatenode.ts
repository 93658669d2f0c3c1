import { all } from '../lib/protocol/types.js'
import type { XcatPlugin } from '../lib/server/plugin.js'

/** nodelist.statustime as xCAT writes it: MM-DD-YYYY HH:MM:SS, local time. */
export function statusTime(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(date.getMonth() + 1)}-${p(date.getDate())}-${date.getFullYear()} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`
}

/** xCAT's updatenode plugin: node status updates reported by nodes. */
const plugin: XcatPlugin = {
  name: 'updatenode',
  handledCommands: () => ({ updatenodestat: 'updatenode' }),
  async processRequest(req, ctx) {
    const status = all(req.arg)[0]
    const nodes = all(req.node)
    if (!status || nodes.length === 0) return
    const setting = (await ctx.tables.site('nodestatus')) ?? ''
    if (/^(n|no|0)$/i.test(setting)) return
    const now = statusTime()
    await ctx.tables.setNodesAttribs('nodelist', new Map(nodes.map((n) => [n, { status, statustime: now }])))
  },
}

export default plugin
