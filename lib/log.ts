/** A leveled logger; the daemon writes to stderr, in-process commands stay quiet unless XCATDEBUG is set. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

type Level = 'debug' | 'info' | 'warn' | 'error'
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** A logger writing one JSON line per record to `write`, dropping records below `min`. */
export function createLogger(options: { min?: Level; write?: (line: string) => void; fields?: Record<string, unknown> } = {}): Logger {
  const min = RANK[options.min ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const base = options.fields ?? {}
  const emit = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] < min) return
    write(`${JSON.stringify({ time: new Date().toISOString(), level, ...base, ...fields, msg })}\n`)
  }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger({ min: options.min ?? 'info', write, fields: { ...base, ...fields } }),
  }
}

/** A logger that discards everything. */
export const SILENT_LOGGER: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => SILENT_LOGGER,
}
