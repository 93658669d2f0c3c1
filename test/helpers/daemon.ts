import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runNamedCommand } from '../../lib/client/cli.js'
import { createLogger, type Logger } from '../../lib/log.js'
import { createClientCredentials, createServerCredentials } from '../../lib/setup/credentials.js'
import { initDatabase } from '../../lib/setup/init-database.js'
import { Xcatd } from '../../lib/server/daemon.js'
import { DEFAULT_PLUGIN_DIR } from '../../lib/server/plugin-registry.js'
import { imagesSettled } from '../../lib/sysclone/image-repository.js'
import type { Tables } from '../../lib/table/tables.js'
import { createTestDatabase, type TestDatabase } from './databases.js'
import type { CommandResult } from './run-command.js'

/** The CN of the test management node's server certificate. */
export const SERVER_CN = 'mn-test'

/** A confdir with a CA and server credentials, and homes holding client credentials for root and alice. */
export interface TestCredentials {
  readonly dir: string
  readonly confdir: string
  readonly rootHome: string
  readonly aliceHome: string
  readonly anonymousHome: string
  remove(): void
}

/** Makes a CA, server credentials (CN mn-test) and client credentials for root and alice with openssl. */
export async function createTestCredentials(): Promise<TestCredentials> {
  const dir = mkdtempSync(join(tmpdir(), 'xcat-tls-'))
  const confdir = join(dir, 'etc-xcat')
  await createServerCredentials(confdir, SERVER_CN)
  await createClientCredentials(confdir, join(dir, 'root'), 'root')
  await createClientCredentials(confdir, join(dir, 'alice'), 'alice')
  return {
    dir,
    confdir,
    rootHome: join(dir, 'root'),
    aliceHome: join(dir, 'alice'),
    anonymousHome: join(dir, 'nobody'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** xCAT's default rows for a test management node at 127.0.0.1, plus the trusted row for its server certificate. */
export async function initTestDatabase(tables: Tables, confdir: string): Promise<void> {
  await initDatabase(tables, { domain: 'cluster.test', master: '127.0.0.1', forwarders: [], timezone: 'UTC', installdir: '/install', tftpdir: '/tftpboot', serverCertCn: SERVER_CN })
  await tables.setAttribs('site', { key: 'xcatconfdir' }, { value: confdir })
}

/** A daemon started for a test. */
export interface TestDaemon {
  readonly daemon: Xcatd
  readonly port: number
  readonly iport: number
  readonly log: string[]
  /** Runs a client command against this daemon as the user whose home is `home`. */
  run(home: string, name: string, argv: readonly string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<CommandResult>
  stop(): Promise<void>
}

/** Starts an xcatd on 127.0.0.1 (or `host`) with free ports, logging into memory. */
export async function startTestDaemon(tables: Tables, options: { confdir: string; pluginDirs?: readonly string[]; name?: string; idleTimeoutMs?: number; maxRequestBytes?: number; host?: string }): Promise<TestDaemon> {
  const lines: string[] = []
  const log: Logger = createLogger({ min: 'debug', write: (l) => void lines.push(l) })
  const daemon = new Xcatd({
    tables,
    log,
    port: 0,
    iport: 0,
    host: options.host ?? '127.0.0.1',
    confdir: options.confdir,
    name: options.name ?? 'mn',
    pluginDirs: options.pluginDirs ?? [DEFAULT_PLUGIN_DIR],
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.maxRequestBytes === undefined ? {} : { maxRequestBytes: options.maxRequestBytes }),
  })
  const { port, iport } = await daemon.start()
  return {
    daemon,
    port,
    iport,
    log: lines,
    async run(home, name, argv, runOptions = {}) {
      let stdout = ''
      let stderr = ''
      const code = await runNamedCommand(name, argv, {
        env: { HOME: home, XCATHOST: `127.0.0.1:${port}`, ...runOptions.env },
        cwd: home,
        out: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
        ...(runOptions.stdin === undefined ? {} : { stdin: runOptions.stdin }),
        ...(runOptions.signal === undefined ? {} : { signal: runOptions.signal }),
      })
      return { code, stdout, stderr }
    },
    async stop() {
      await daemon.stop()
      await imagesSettled()
    },
  }
}

/** What {@link useTestDaemon} gives a suite once its before hook ran. */
export interface DaemonSuite {
  readonly db: TestDatabase
  readonly tables: Tables
  readonly creds: TestCredentials
  readonly xcatd: TestDaemon
}

/**
 * Registers mocha hooks that give the suite a database with xCAT's default rows, credentials and a running daemon
 * (after `seed` filled the tables), and remove them all afterwards.
 */
export function useTestDaemon(options: { backend?: TestDatabase['backend']; seed?: (tables: Tables) => Promise<void>; daemon?: Omit<Parameters<typeof startTestDaemon>[1], 'confdir'> } = {}): DaemonSuite {
  const suite = {} as { db: TestDatabase; tables: Tables; creds: TestCredentials; xcatd: TestDaemon }
  before(async () => {
    suite.db = await createTestDatabase(options.backend ?? 'sqlite')
    suite.tables = suite.db.open()
    suite.creds = await createTestCredentials()
    await initTestDatabase(suite.tables, suite.creds.confdir)
    await options.seed?.(suite.tables)
    suite.xcatd = await startTestDaemon(suite.tables, { confdir: suite.creds.confdir, ...options.daemon })
  })
  after(async () => {
    await suite.xcatd?.stop()
    await suite.tables?.close()
    await suite.db?.drop()
    suite.creds?.remove()
  })
  return suite
}
