import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SecureVersion, TlsOptions } from 'node:tls'

/** The site settings that shape the TLS listener. */
export interface TlsSettings {
  readonly confdir: string
  readonly tlspolicy?: string | undefined
  readonly sslversion?: string | undefined
  readonly ciphers?: string | undefined
}

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

function versionOf(token: string): SecureVersion | undefined {
  const m = /^tlsv1(?:[._]?([0-3]))?$/i.exec(token.trim())
  if (!m) return undefined
  return VERSIONS[m[1] === undefined || m[1] === '0' ? 0 : Number(m[1])]
}

/**
 * Protocol versions from site.xcatsslversion (an OpenSSL-style list such as `SSLv23:!SSLv2:!SSLv3:!TLSv1:!TLSv1_1`,
 * or one version) or site.xcattlspolicy; never below TLS 1.2.
 */
export function tlsVersions(settings: TlsSettings): { minVersion: SecureVersion; maxVersion?: SecureVersion } {
  const floor = 2
  const spec = settings.sslversion?.trim()
  if (spec) {
    const single = versionOf(spec)
    if (single) {
      const idx = Math.max(floor, VERSIONS.indexOf(single))
      return { minVersion: VERSIONS[idx] ?? 'TLSv1.2', maxVersion: VERSIONS[idx] ?? 'TLSv1.2' }
    }
    let min = 0
    for (const token of spec.split(':')) {
      const excluded = token.startsWith('!') ? versionOf(token.slice(1)) : undefined
      if (excluded) min = Math.max(min, VERSIONS.indexOf(excluded) + 1)
    }
    return { minVersion: VERSIONS[Math.max(floor, Math.min(min, 3))] ?? 'TLSv1.2' }
  }
  return { minVersion: 'TLSv1.2' }
}

/** Listener options: server credentials and CA from `<confdir>/cert`, client certificates requested but optional. */
export function serverTlsOptions(settings: TlsSettings): TlsOptions {
  const certDir = join(settings.confdir, 'cert')
  const cred = readFileSync(join(certDir, 'server-cred.pem'))
  return {
    key: cred,
    cert: cred,
    ca: readFileSync(join(certDir, 'ca.pem')),
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: 10_000,
    ...tlsVersions(settings),
    ...(settings.ciphers ? { ciphers: settings.ciphers } : {}),
  }
}
