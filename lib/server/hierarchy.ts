import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseXcatHost, submitRequest } from '../client/tls-client.js'
import type { XcatRequest } from '../protocol/types.js'
import { VERSION } from '../version.js'
import type { RemoteDispatch } from './router.js'

/**
 * Sends a request copy to the service node(s) `_xcatdest` names, authenticating with this server's credentials
 * (the "trusted" policy row), trying each destination in turn (anycast). Responses are relayed without their
 * serverdone; when no destination answers the error says so, as xcatd does.
 */
export function hierarchyDispatch(confdir: string, defaultPort: number): RemoteDispatch {
  let creds: { cred: Buffer; ca: Buffer } | undefined
  return async (request, dest, sink, signal) => {
    const certDir = join(confdir, 'cert')
    creds ??= { cred: readFileSync(join(certDir, 'server-cred.pem')), ca: readFileSync(join(certDir, 'ca.pem')) }
    const { cred, ca } = creds
    const copy: XcatRequest = { ...request, _xcatver: [VERSION] }
    delete copy._xcatdest
    const targets = dest.split(',').filter((d) => d !== '')
    let lastError = ''
    for (const target of targets) {
      const { host, port } = parseXcatHost(target, defaultPort)
      let relayed = false
      try {
        await submitRequest({ host, port, key: cred, cert: cred, ca }, copy, (r) => {
          relayed = true
          const { serverdone: _done, ...rest } = r
          if (Object.keys(rest).length) sink(rest)
        }, signal)
        return
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err)
        if (relayed) break
      }
    }
    const where = targets.length === 1 ? `${parseXcatHost(targets[0], defaultPort).host}:${parseXcatHost(targets[0], defaultPort).port}` : targets.join(',')
    sink({ error: [`Unable to dispatch hierarchical sub-command to ${where}. Error: ${lastError}`], errorcode: ['1'] })
  }
}
