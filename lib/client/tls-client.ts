import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { decodeResponse, encodeRequest } from '../protocol/codec.js'
import { DocumentFramer, FrameError } from '../protocol/framer.js'
import type { XcatRequest, XcatResponse } from '../protocol/types.js'

/** TCP connect timeout, as xCAT's client. */
const CONNECT_TIMEOUT_MS = 15_000

/** The largest response stream chunk we hold while waiting for its end tag. */
const MAX_RESPONSE_BYTES = 512 * 1024 * 1024

/** Where and how to reach an xcatd. */
export interface XcatdTarget {
  readonly host: string
  readonly port: number
  /** PEM key and certificate presented as the client (omitted: anonymous). */
  readonly key?: Buffer
  readonly cert?: Buffer
  /** CA that signed the server certificate (omitted: the server is not verified, as xCAT's client does then). */
  readonly ca?: Buffer
}

const contexts = new WeakMap<object, Map<Buffer | undefined, tls.SecureContext>>()

/** One TLS context per set of credentials: parsing keys and certificates costs more than a handshake. */
function secureContext(target: XcatdTarget): tls.SecureContext {
  const owner: object = target.key ?? contexts
  let byCa = contexts.get(owner)
  if (!byCa) contexts.set(owner, (byCa = new Map()))
  let ctx = byCa.get(target.ca)
  if (!ctx) {
    ctx = tls.createSecureContext({ ...(target.key ? { key: target.key, cert: target.cert } : {}), ...(target.ca ? { ca: target.ca } : {}), minVersion: 'TLSv1.2' })
    byCa.set(target.ca, ctx)
  }
  return ctx
}

/** The connection ended before `serverdone`. */
export class PrematureEndError extends Error {
  constructor() {
    super('communication with the xCAT server seems to have been ended prematurely')
  }
}

/** Parses `host:port`, `[v6]:port`, `host` (port 3001), with an optional `%scope` on IPv6 link-local addresses. */
export function parseXcatHost(value: string | undefined, defaultPort = 3001): { host: string; port: number } {
  const text = (value ?? '').trim()
  if (!text) return { host: 'localhost', port: defaultPort }
  const bracket = /^\[(.+)\](?::(\d+))?$/.exec(text)
  if (bracket) return { host: bracket[1] ?? '', port: Number(bracket[2] ?? defaultPort) }
  const colons = text.split(':').length - 1
  if (colons === 1) {
    const [host = '', port = ''] = text.split(':')
    return { host, port: Number(port) || defaultPort }
  }
  return { host: text, port: defaultPort }
}

/** The credentials xCAT's client uses: `~/.xcat/client-cred.pem` (key and certificate) and `~/.xcat/ca.pem`. */
export function clientCredentials(home: string = homedir()): { key?: Buffer; cert?: Buffer; ca?: Buffer; warning?: string } {
  const dir = join(home, '.xcat')
  const cred = join(dir, 'client-cred.pem')
  const ca = join(dir, 'ca.pem')
  if (!existsSync(cred) || !existsSync(ca)) {
    return { warning: `Unable to read ${existsSync(cred) ? ca : cred}; connecting without client credentials` }
  }
  const pem = readFileSync(cred)
  return { key: pem, cert: pem, ca: readFileSync(ca) }
}

/**
 * Sends one request to an xcatd over TLS and hands every response to `onResponse` as it arrives; resolves after
 * `serverdone`. `signal` aborting sends `abortcommand` on the same connection, as xCAT's client does on Ctrl-C.
 */
export async function submitRequest(target: XcatdTarget, request: XcatRequest, onResponse: (r: XcatResponse) => void, signal?: AbortSignal): Promise<void> {
  const socket = tls.connect({
    host: target.host,
    port: target.port,
    secureContext: secureContext(target),
    rejectUnauthorized: Boolean(target.ca),
    checkServerIdentity: () => undefined,
    timeout: CONNECT_TIMEOUT_MS,
  })
  socket.setEncoding('utf8')
  socket.setNoDelay(true)
  const framer = new DocumentFramer('xcatresponse', MAX_RESPONSE_BYTES)
  let done = false
  let chain = Promise.resolve()
  const onAbort = () => {
    if (!socket.destroyed) socket.write('<xcatrequest>\n  <abortcommand>1</abortcommand>\n</xcatrequest>\n')
  }
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(err)
    }
    socket.once('secureConnect', () => {
      socket.setTimeout(0)
      socket.write(encodeRequest(request))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    socket.on('timeout', () => fail(new Error(`Connection to ${target.host}:${target.port} timed out`)))
    socket.on('error', (err) => fail(err))
    socket.on('data', (chunk: string) => {
      let docs: string[]
      try {
        docs = framer.push(chunk)
      } catch (err) {
        fail(err instanceof FrameError ? new PrematureEndError() : (err as Error))
        return
      }
      for (const doc of docs) {
        chain = chain.then(async () => {
          if (done) return
          const rsp = await decodeResponse(doc)
          if (rsp.serverdone !== undefined) {
            done = true
            const { serverdone: _ignored, ...rest } = rsp
            if (Object.keys(rest).length > 0) onResponse(rsp)
            signal?.removeEventListener('abort', onAbort)
            socket.end()
            resolve()
            return
          }
          onResponse(rsp)
        }).catch((err: unknown) => fail(err as Error))
      }
    })
    socket.on('close', () => {
      void chain.then(() => {
        if (!done) fail(new PrematureEndError())
      })
    })
  })
}
