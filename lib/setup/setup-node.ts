import { existsSync } from 'node:fs'
import { hostname, homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Tables } from '../table/tables.js'
import { certificateCn, createClientCredentials, createServerCredentials } from './credentials.js'
import { detectHostFacts, initDatabase } from './init-database.js'

/** The configuration directory: site.xcatconfdir, else /etc/xcat. */
export async function configDir(tables: Tables): Promise<string> {
  return (await tables.site('xcatconfdir')) || '/etc/xcat'
}

/** Server credentials (and the CA) under `<confdir>`, subject CN = this host's name, unless they exist and `force` is off. */
export async function setupServerCredentials(tables: Tables, force = false): Promise<string> {
  const confdir = await configDir(tables)
  const cred = join(confdir, 'cert', 'server-cred.pem')
  if (force || !existsSync(cred)) await createServerCredentials(confdir, hostname())
  const cn = await certificateCn(join(confdir, 'cert', 'server-cert.pem'))
  if (cn) await tables.setAttribs('policy', { priority: '1.2' }, { name: cn, rule: 'trusted' })
  return confdir
}

/** Client credentials for the current user in ~/.xcat, unless they exist and `force` is off. */
export async function setupClientCredentials(tables: Tables, home: string = homedir(), force = false): Promise<void> {
  if (!force && existsSync(join(home, '.xcat', 'client-cred.pem'))) return
  await createClientCredentials(await configDir(tables), home, userInfo().username)
}

/**
 * First-start set-up of a management node: xCAT's default rows when the database is new (the configuration directory
 * set to `confdir`), the CA, the server credentials and the current user's client credentials when missing.
 */
export async function setupManagementNode(tables: Tables, options: { confdir?: string; home?: string } = {}): Promise<void> {
  if (!(await tables.site('master'))) {
    await initDatabase(tables, await detectHostFacts())
    if (options.confdir) await tables.setAttribs('site', { key: 'xcatconfdir' }, { value: options.confdir })
  }
  await setupServerCredentials(tables)
  await setupClientCredentials(tables, options.home)
}
