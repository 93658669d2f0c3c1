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

/** xCAT's report_node_error: one node's error with errorcode 1. */
export function nodeErrorResponse(node: string, message: string, errorcode = 1): XcatResponse {
  return { node: [{ name: [node], error: [message], errorcode: [String(errorcode)] }] }
}

/** The names of the nodes a response reports an error for. */
export function failedNodesOf(response: XcatResponse): string[] {
  return (response.node ?? []).flatMap((n) => {
    const code = n.errorcode?.[0]
    const failed = (n.error?.length ?? 0) > 0 || (code !== undefined && String(code) !== '0')
    return failed && n.name?.[0] ? [n.name[0]] : []
  })
}
