import { getopt, GetoptError } from '../getopt.js'
import { createLogger } from '../log.js'
import { setupManagementNode } from '../setup/setup-node.js'
import { locateDatabase, parseDbLocation } from '../table/cfgloc.js'
import { openTables } from '../table/open-tables.js'
import { imagesSettled } from '../sysclone/image-repository.js'
import { Xcatd } from './daemon.js'

const USAGE = 'Usage: xcatd [-f|--foreground] [--port N] [--iport N] [--listen ADDRESS] [--debug]\n'

/** bin/xcatd: runs the daemon in the foreground, logging to stderr, until SIGTERM or SIGINT. */
export async function xcatdMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let opts
  try {
    opts = getopt(argv, ['f|foreground', 'port=i', 'iport=i', 'listen=s', 'debug', 'h|help']).opts
  } catch (err) {
    if (!(err instanceof GetoptError)) throw err
    process.stderr.write(`${err.message}\n${USAGE}`)
    process.exitCode = 1
    return
  }
  if (opts.h) {
    process.stdout.write(USAGE)
    return
  }
  const log = createLogger({ min: opts.debug ? 'debug' : 'info', fields: { svc: 'xcatd' } })
  const location = parseDbLocation(locateDatabase())
  const tables = openTables()
  let daemon: Xcatd | undefined
  const stop = async (signal: string) => {
    log.info('stopping', { signal })
    await daemon?.stop()
    // A capture that has published its image may still be removing the tree it replaced.
    await imagesSettled()
    await tables.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
  try {
    await setupManagementNode(tables, location.kind === 'sqlite' ? { confdir: location.dir } : {})
    daemon = new Xcatd({
      tables,
      log,
      ...(typeof opts.port === 'number' ? { port: opts.port } : {}),
      ...(typeof opts.iport === 'number' ? { iport: opts.iport } : {}),
      ...(typeof opts.listen === 'string' ? { host: opts.listen } : {}),
    })
    await daemon.start()
  } catch (err) {
    log.error('xcatd failed to start', { err: err instanceof Error ? err.message : String(err) })
    await tables.close()
    process.exitCode = 1
  }
}
