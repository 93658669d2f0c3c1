import { readFileSync } from 'node:fs'
import { xcatError } from '../errors.js'

/** Where xCAT reads the database location when XCATCFG is not set. */
export const CFGLOC_PATH = '/etc/xcat/cfgloc'

/** The embedded default: one SQLite file per table in this directory. */
export const DEFAULT_SQLITE_DIR = '/etc/xcat'

/** A parsed database location, in the terms of xCAT's cfgloc. */
export type DbLocation =
  | { readonly kind: 'sqlite'; readonly dir: string }
  | {
      readonly kind: 'mysql' | 'pg'
      readonly database: string
      readonly host: string
      readonly port?: number
      readonly user: string
      readonly password: string
    }

/** The location string xCAT would use: env XCATCFG, else the first line of cfgloc, else SQLite:/etc/xcat. */
export function locateDatabase(env: NodeJS.ProcessEnv = process.env, cfglocPath = CFGLOC_PATH): string {
  const fromEnv = env.XCATCFG?.trim()
  if (fromEnv) return fromEnv
  let text: string
  try {
    text = readFileSync(cfglocPath, 'utf8')
  } catch {
    return `SQLite:${DEFAULT_SQLITE_DIR}`
  }
  const first = text.split('\n', 1)[0]?.trim()
  return first ? first : `SQLite:${DEFAULT_SQLITE_DIR}`
}

/** Parses `SQLite:/dir`, `mysql:dbname=D;host=H[;port=P]|user|pw` or `Pg:dbname=D;host=H|user|pw`. */
export function parseDbLocation(location: string): DbLocation {
  const spec = location.includes(':') ? location : `SQLite:${location}`
  const colon = spec.indexOf(':')
  const driver = spec.slice(0, colon).replace(/^dbi:/i, '')
  const rest = spec.slice(colon + 1)
  if (/^sqlite$/i.test(driver)) {
    if (!rest.startsWith('/')) throw xcatError('XCAT_ERR_DB_CONFIG', `SQLite location must be an absolute directory: ${location}`)
    return { kind: 'sqlite', dir: rest }
  }
  const kind = /^mysql$/i.test(driver) ? 'mysql' : /^pg$/i.test(driver) ? 'pg' : undefined
  if (!kind) throw xcatError('XCAT_ERR_DB_CONFIG', `unsupported database type "${driver}" in ${location}`)
  const [dsn = '', user = '', ...pwParts] = rest.split('|')
  const options = parseDsnOptions(dsn)
  const database = options.get('dbname') ?? options.get('database')
  if (!database) throw xcatError('XCAT_ERR_DB_CONFIG', `no dbname in ${kind} location`)
  const portText = options.get('port')
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw xcatError('XCAT_ERR_DB_CONFIG', `bad port "${portText}" in ${kind} location`)
  }
  const base = { kind, database, host: options.get('host') ?? 'localhost', user, password: pwParts.join('|') } as const
  return port === undefined ? base : { ...base, port }
}

function parseDsnOptions(dsn: string): Map<string, string> {
  const options = new Map<string, string>()
  for (const part of dsn.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) options.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
  }
  return options
}
