import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../../../lib/paths.js'
import { runProcess, type HostCommandResult, type TestHost } from './test-hosts.js'

/** The node-side installer under test. */
export const INSTALLER = join(PROJECT_ROOT, 'share', 'xcat', 'sysclone', 'installer')
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Where the installer of a test node finds its image server, install monitor and kernel command line. */
export interface InstallerRun {
  /** The target disk, named explicitly as every test does. */
  readonly disk: string
  /** The kernel command line the node booted with. */
  readonly cmdline: string
  /** `<host>:<port>` of the rsync daemon serving the scripts and image modules. */
  readonly imageServer: string
  /** The install monitor's port on the master. */
  readonly iport: number
  readonly env?: Readonly<Record<string, string>>
}

/** The installer's result, its variables.txt and how long it ran. */
export interface InstallerResult extends HostCommandResult {
  readonly variables: string
  readonly seconds: number
}

/**
 * Runs the installer as a network-booted node would, in the node's network namespace and a private mount namespace,
 * with XCAT_SYSCLONE_NOREBOOT=1: nothing outside the named disk and the installer's own mount points is touched.
 */
export async function runInstaller(node: TestHost, run: InstallerRun): Promise<InstallerResult> {
  const work = mkdtempSync(join(tmpdir(), 'xcat-clone-'))
  const started = Date.now()
  try {
    writeFileSync(join(work, 'cmdline'), `${run.cmdline}\n`)
    const res = await runProcess('ip', ['netns', 'exec', node.netns, 'unshare', '-m', '--propagation', 'private', INSTALLER], {
      timeoutMs: 900_000,
      env: {
        PATH,
        LANG: 'C',
        INSTALL_DISK: run.disk,
        XCAT_SYSCLONE_NOREBOOT: '1',
        IMAGESERVER: run.imageServer,
        XCATIPORT: String(run.iport),
        XCAT_SYSCLONE_TMP: work,
        XCAT_SYSCLONE_ROOT: join(work, 'a'),
        XCAT_SYSCLONE_CMDLINE: join(work, 'cmdline'),
        ...run.env,
      },
    })
    let variables = ''
    try {
      variables = readFileSync(join(work, 'variables.txt'), 'utf8')
    } catch {
      // Not written when the installer failed before.
    }
    return { ...res, variables, seconds: (Date.now() - started) / 1000 }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
