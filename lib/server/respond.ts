import type { XcatResponse } from '../protocol/types.js'

/** An error response as xCAT's plugins send it (`{error => [...], errorcode => [n]}`). */
export function errorResponse(message: string | readonly string[], errorcode = 1): XcatResponse {
  return { error: typeof message === 'string' ? [message] : [...message], errorcode: [String(errorcode)] }
}

/** A data response of the given lines. */
export function dataResponse(lines: readonly string[]): XcatResponse {
  return { data: [...lines] }
}

/** A usage response: the lines as data, with an errorcode when the usage is shown because of bad input. */
export function usageResponse(lines: readonly string[], errorcode = 0): XcatResponse {
  return errorcode ? { data: [...lines], errorcode: [String(errorcode)] } : { data: [...lines] }
}
