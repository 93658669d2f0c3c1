/** Message builders of every coded error; the key is the error's `code`. */
export const XCAT_ERRORS = {
  XCAT_ERR_DB_CONFIG: (detail: string) => `Invalid database configuration: ${detail}`,
  XCAT_ERR_DB_CONNECT: (detail: string) => `Unable to connect to the database: ${detail}`,
  XCAT_ERR_DB_QUERY: (detail: string) => `Database error: ${detail}`,
  XCAT_ERR_NO_TABLE: (table: string) => `No such table: ${table}`,
  XCAT_ERR_NO_COLUMN: (table: string, col: string) => `No column "${col}" in table "${table}"`,
  XCAT_ERR_BAD_CSV: (detail: string) => detail,
  XCAT_ERR_BAD_NODERANGE: (missing: string) => `Invalid nodes and/or groups in noderange: ${missing}`,
  XCAT_ERR_NO_MASTER: (command: string) => `site.master is not set, unable to dispatch '${command}'`,
  XCAT_ERR_BAD_REGEX_VALUE: (detail: string) => `Unable to evaluate the regular expression value: ${detail}`,
  XCAT_ERR_USAGE: (detail: string) => detail,
  XCAT_ERR_BAD_ARGUMENT: (detail: string) => detail,
  XCAT_ERR_NO_OBJECT: (detail: string) => detail,
  XCAT_ERR_PLUGIN: (detail: string) => detail,
} as const

/** The code of an error in {@link XCAT_ERRORS}. */
export type XcatErrorCode = keyof typeof XCAT_ERRORS

/** An error with a stable code and the numeric errorcode xCAT reports for it. */
export class XcatError extends Error {
  readonly code: XcatErrorCode
  readonly errorcode: number

  constructor(code: XcatErrorCode, message: string, options: { errorcode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'XcatError'
    this.code = code
    this.errorcode = options.errorcode ?? 1
  }
}

type Builder<C extends XcatErrorCode> = (typeof XCAT_ERRORS)[C]

/** Builds the coded error `code` from the arguments of its message builder. */
export function xcatError<C extends XcatErrorCode>(code: C, ...args: Parameters<Builder<C>>): XcatError {
  const build = XCAT_ERRORS[code] as (...a: Parameters<Builder<C>>) => string
  return new XcatError(code, build(...args))
}

/** Wraps any thrown value as an XcatError of `code`, keeping the original as the cause. */
export function asXcatError(err: unknown, code: XcatErrorCode): XcatError {
  if (err instanceof XcatError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new XcatError(code, message, { cause: err })
}
