import type { TLSSocket } from 'node:tls'
import type { Logger } from '../log.js'
import { decodeRequest, encodeResponses, serverDone } from '../protocol/codec.js'
import { DocumentFramer, FrameError } from '../protocol/framer.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'
import type { ClientIdentity, RequestExecutor } from './executor.js'
import type { Semaphore } from './semaphore.js'

/** How long a connection may sit without a complete request before it is closed, as xcatd's 15 s select. */
export const IDLE_TIMEOUT_MS = 15_000

/** What one client connection needs from the daemon. */
export interface ConnectionDeps {
  readonly executor: RequestExecutor
  readonly limiter: Semaphore
  readonly log: Logger
  /** xcatdsource: this server's short host name. */
  readonly source: string
  readonly maxRequestBytes: number
  readonly idleTimeoutMs?: number
}

/** Writes responses to the socket, several per write, the way xcatd batches them. */
class ResponseWriter {
  #queue: XcatResponse[] = []
  #scheduled = false

  constructor(
    private readonly socket: TLSSocket,
    private readonly source: string,
  ) {}

  push(r: XcatResponse): void {
    this.#queue.push(r)
    if (r.serverdone !== undefined) return this.flush()
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.#scheduled = false
    if (this.#queue.length === 0 || this.socket.destroyed) return
    const batch = this.#queue
    this.#queue = []
    this.socket.write(encodeResponses(batch, this.source))
  }
}

/**
 * Serves one TLS client: requests are read up to `</xcatrequest>`, run one after another (each holding a place in
 * the connection limit), answered with their responses and `serverdone`. `abortcommand` aborts the running request;
 * malformed or oversized input gets an error response and the connection closes.
 */
export function serveConnection(socket: TLSSocket, client: ClientIdentity, deps: ConnectionDeps): void {
  socket.setEncoding('utf8')
  socket.setNoDelay(true)
  const framer = new DocumentFramer('xcatrequest', deps.maxRequestBytes)
  const writer = new ResponseWriter(socket, deps.source)
  let queue = Promise.resolve()
  let running: AbortController | undefined
  let busy = 0
  let idle: NodeJS.Timeout | undefined
  let closed = false
  const armIdle = () => {
    clearTimeout(idle)
    if (busy === 0) idle = setTimeout(() => socket.destroy(), deps.idleTimeoutMs ?? IDLE_TIMEOUT_MS)
  }
  const refuse = (message: string) => {
    deps.log.warn('closing connection after bad input', { host: client.host, err: message })
    writer.push({ error: [message], errorcode: ['1'], ...serverDone() })
    socket.end()
    closed = true
  }
  armIdle()
  socket.on('data', (chunk: string) => {
    if (closed) return
    let docs: string[]
    try {
      docs = framer.push(chunk)
    } catch (err) {
      refuse(err instanceof FrameError ? `Invalid request: ${err.message}` : String(err))
      return
    }
    for (const doc of docs) {
      busy++
      clearTimeout(idle)
      const parsed = decodeRequest(doc).then(
        (req) => req,
        (err: unknown) => err as Error,
      )
      void parsed.then((req) => {
        if (!(req instanceof Error) && req.abortcommand !== undefined && running) {
          deps.log.info('abortcommand received', { host: client.host })
          running.abort()
        }
      })
      queue = queue.then(async () => {
        const req = await parsed
        try {
          if (closed) return
          if (req instanceof Error) return refuse(`Invalid request: ${req.message}`)
          if (req.abortcommand !== undefined) return
          await runOne(req)
        } finally {
          busy--
          armIdle()
        }
      })
    }
  })
  const runOne = async (req: XcatRequest) => {
    const release = await deps.limiter.acquire()
    running = new AbortController()
    try {
      await deps.executor.execute(req, client, (r) => writer.push(r), running.signal)
    } finally {
      running = undefined
      release()
    }
  }
  socket.on('close', () => {
    clearTimeout(idle)
    running?.abort()
  })
  socket.on('error', (err) => deps.log.debug('connection error', { host: client.host, err: err.message }))
}
