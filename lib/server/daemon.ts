import type { AddressInfo, Server, Socket } from 'node:net'
import { hostname } from 'node:os'
import tls from 'node:tls'
import type { Logger } from '../log.js'
import { MAX_REQUEST_BYTES } from '../protocol/framer.js'
import type { Tables } from '../table/tables.js'
import { IDLE_TIMEOUT_MS, serveConnection } from './connection.js'
import { RequestExecutor } from './executor.js'
import { hierarchyDispatch } from './hierarchy.js'
import { createInstallMonitor } from './install-monitor.js'
import { PeerResolver } from './node-address.js'
import { certificateUser } from './peer.js'
import { DEFAULT_PLUGIN_DIR, PluginRegistry } from './plugin-registry.js'
import { Router } from './router.js'
import { Semaphore } from './semaphore.js'
import { serverTlsOptions } from './tls-options.js'

/** How the daemon is set up; ports and names default to the site table's values. */
export interface XcatdOptions {
  readonly tables: Tables
  readonly log: Logger
  /** Plugin directories (default: ours). */
  readonly pluginDirs?: readonly string[]
  /** Overrides site.xcatdport / site.xcatiport (0: any free port). */
  readonly port?: number
  readonly iport?: number
  /** Address to listen on (default: all, IPv6 and IPv4). */
  readonly host?: string
  /** Overrides site.xcatconfdir. */
  readonly confdir?: string
  /** The short host name this server reports as xcatdsource. */
  readonly name?: string
  readonly maxRequestBytes?: number
  readonly idleTimeoutMs?: number
}

/** Ports and address of a running daemon. */
export interface XcatdAddress {
  readonly port: number
  readonly iport: number
}

/** xcatd: the TLS request service, its plugin router and policy, and the install monitor. */
export class Xcatd {
  readonly #opts: XcatdOptions
  #tls: tls.Server | undefined
  #monitor: Server | undefined
  readonly #sockets = new Set<Socket>()

  constructor(options: XcatdOptions) {
    this.#opts = options
  }

  /** Loads the plugins, reads the site settings and starts listening. */
  async start(): Promise<XcatdAddress> {
    const { tables, log } = this.#opts
    const site = async (key: string) => (await tables.site(key)) || undefined
    const confdir = this.#opts.confdir ?? (await site('xcatconfdir')) ?? '/etc/xcat'
    const port = this.#opts.port ?? Number((await site('xcatdport')) ?? 3001)
    const iport = this.#opts.iport ?? Number((await site('xcatiport')) ?? 3002)
    const name = this.#opts.name ?? hostname().split('.')[0] ?? 'localhost'
    const registry = new PluginRegistry()
    for (const dir of this.#opts.pluginDirs ?? [DEFAULT_PLUGIN_DIR]) await registry.loadDirectory(dir, log)
    log.info('plugins loaded', { plugins: registry.names() })
    let boundPort = port
    const isLocal = (dest: string) => {
      const [host = '', p] = dest.split(',')[0]?.split(':') ?? []
      return (host === name || host === hostname()) && (p === undefined || Number(p) === boundPort)
    }
    const router = new Router({ registry, tables, log, remote: hierarchyDispatch(confdir, port || 3001), isLocal })
    const executor = new RequestExecutor({ tables, router, log })
    const limiter = new Semaphore(Number((await site('xcatmaxconnections')) ?? 64))
    const peers = new PeerResolver(tables)
    const tlsOptions = serverTlsOptions({ confdir, tlspolicy: await site('xcattlspolicy'), sslversion: await site('xcatsslversion'), ciphers: await site('xcatsslciphers') })
    this.#tls = tls.createServer(tlsOptions, (socket) => {
      const { user, refused } = certificateUser(socket)
      if (refused) {
        log.warn('client certificate refused', { address: socket.remoteAddress, reason: String(socket.authorizationError) })
        socket.destroy()
        return
      }
      socket.pause()
      void peers.resolve(socket.remoteAddress ?? '').then(({ host, fqdn }) => {
        serveConnection(socket, { name: user, host, fqdn, port: socket.remotePort ?? 0 }, {
          executor,
          limiter,
          log,
          source: name,
          maxRequestBytes: this.#opts.maxRequestBytes ?? MAX_REQUEST_BYTES,
          idleTimeoutMs: this.#opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
        })
        socket.resume()
      })
    })
    this.#tls.on('tlsClientError', (err) => log.debug('TLS handshake failed', { err: err.message }))
    this.#track(this.#tls)
    this.#monitor = createInstallMonitor({ tables, router, log, peers })
    this.#track(this.#monitor)
    boundPort = await listen(this.#tls, port, this.#opts.host)
    const boundIport = await listen(this.#monitor, iport, this.#opts.host)
    log.info('xcatd listening', { port: boundPort, iport: boundIport, confdir })
    return { port: boundPort, iport: boundIport }
  }

  /** Stops listening, closes every connection and waits for the servers to close. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await Promise.all([this.#tls, this.#monitor].map((server) => (server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined)))
  }

  #track(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
  }
}

async function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port, ...(host ? { host } : {}), backlog: 8192 }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}
