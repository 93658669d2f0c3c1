import net from 'node:net'
import { createInterface } from 'node:readline'
import type { Logger } from '../log.js'
import { expandNoderange } from '../noderange.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import type { Tables } from '../table/tables.js'
import type { PeerResolver } from './node-address.js'
import type { Router } from './router.js'

/** How long a node has to say what it wants, as xcatd's alarm(2). */
const LINE_TIMEOUT_MS = 2_000

/** What the install monitor needs from the daemon. */
export interface InstallMonitorDeps {
  readonly tables: Tables
  readonly router: Router
  readonly log: Logger
  /** Names a peer address (hosts table, then reverse DNS). */
  readonly peers: PeerResolver
}

/**
 * The install monitor on site.xcatiport (plain TCP): a node connects, the server says `ready`, the node sends one line
 * and the server answers `done` and acts: `next` runs `nodeset <node> next`, `installstatus <s>...` records each
 * status. Peers that are not nodes are closed without a word.
 */
export function createInstallMonitor(deps: InstallMonitorDeps): net.Server {
  const run = async (request: XcatRequest) => {
    const command = request.command[0] ?? ''
    const sink = (r: XcatResponse) => {
      if (r.error) deps.log.warn('install monitor request failed', { command, error: r.error })
    }
    if (deps.router.handles(command)) await deps.router.dispatch(request, sink, new AbortController().signal)
  }
  return net.createServer((socket) => {
    socket.on('error', () => socket.destroy())
    void (async () => {
      const { host } = await deps.peers.resolve(socket.remoteAddress ?? '')
      const [node] = (await expandNoderange(deps.tables, host)).nodes
      if (!node) {
        deps.log.warn('install monitor: connection from a host that is not a node', { address: socket.remoteAddress, host })
        socket.destroy()
        return
      }
      const timer = setTimeout(() => socket.destroy(), LINE_TIMEOUT_MS)
      socket.write('ready\n')
      const lines = createInterface({ input: socket, crlfDelay: Infinity })
      for await (const raw of lines) {
        clearTimeout(timer)
        const text = raw.replace(/\r/g, '')
        socket.write('done\n')
        if (text.includes('next')) {
          deps.log.info("install monitor: triggering 'nodeset next'", { node })
          await run(deps.router.handles('nodeset') ? { command: ['nodeset'], node: [node], arg: ['next'] } : { command: ['nextdestiny'], node: [node] })
        } else if (text.includes('installstatus')) {
          for (const status of text.split(/\s+/).filter((t) => t !== '').slice(1)) {
            await run({ command: ['updatenodestat'], node: [node], arg: [status] })
          }
        } else {
          deps.log.warn('install monitor: unsupported request', { node, text })
        }
        break
      }
      clearTimeout(timer)
      socket.end()
    })().catch((err: unknown) => {
      deps.log.error('install monitor failed', { err: err instanceof Error ? err.message : String(err) })
      socket.destroy()
    })
  })
}
