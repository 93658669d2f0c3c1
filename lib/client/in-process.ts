import { existsSync, statSync } from 'node:fs'
import { XcatError } from '../errors.js'
import { createLogger, SILENT_LOGGER } from '../log.js'
import { first, type XcatRequest, type XcatResponse } from '../protocol/types.js'
import { DEFAULT_PLUGIN_DIR, PluginRegistry } from '../server/plugin-registry.js'
import { Router } from '../server/router.js'
import { openTables } from '../table/open-tables.js'

/** The plugin directories XCATBYPASS names (`:`-separated), or ours when it names none. */
export function bypassPluginDirs(value: string): string[] {
  const dirs = value.split(':').filter((d) => d.startsWith('/') && existsSync(d) && statSync(d).isDirectory())
  return dirs.length ? dirs : [DEFAULT_PLUGIN_DIR]
}

/**
 * Runs a request without a daemon, as xCAT's client does with XCATBYPASS: plugins are loaded and called in this
 * process against the database XCATCFG names, with no policy check. Every response goes to `sink`.
 */
export async function runInProcess(request: XcatRequest, sink: (r: XcatResponse) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = env.XCATDEBUG ? createLogger({ min: 'debug' }) : SILENT_LOGGER
  const tables = openTables(env)
  try {
    const registry = new PluginRegistry()
    for (const dir of bypassPluginDirs(env.XCATBYPASS ?? '')) await registry.loadDirectory(dir, log)
    const router = new Router({ registry, tables, log })
    const command = first(request.command) ?? ''
    if (!router.handles(command)) {
      sink({ error: ['Unsupported request'] })
      return
    }
    try {
      await router.dispatch(request, sink, new AbortController().signal)
    } catch (err) {
      if (!(err instanceof XcatError)) throw err
      sink({ error: [err.message], errorcode: [String(err.errorcode)] })
    }
  } finally {
    await tables.close()
  }
}
