/** A data item: plain text, or xCAT's `{desc, contents}` pair. */
export type DataItem = string | { desc?: string[]; contents?: string[] }

/** One node's part of a response. */
export interface NodeResponse {
  name: string[]
  data?: DataItem[]
  error?: string[]
  warning?: string[]
  errorcode?: (number | string)[]
  [key: string]: unknown
}

/** An `<xcatresponse>`: every field an array, as XML::Simple with ForceArray produces it. */
export interface XcatResponse {
  data?: DataItem[]
  info?: string[]
  sinfo?: string[]
  warning?: string[]
  error?: string[]
  errorcode?: (number | string)[]
  node?: NodeResponse[]
  xcatdsource?: string[]
  host?: string[]
  serverdone?: unknown[]
  [key: string]: unknown
}

/** An `<xcatrequest>`: `command` plus repeated-element arrays; in-process sub-requests may carry objects. */
export interface XcatRequest {
  command: string[]
  noderange?: string[]
  node?: string[]
  arg?: string[]
  cwd?: string[]
  stdin?: string[]
  environment?: unknown[]
  [key: string]: unknown
}

/** The first value of a request or response field. */
export function first(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value
  return v === undefined || v === null ? undefined : typeof v === 'string' ? v : String(v)
}

/** The values of a request or response field as strings. */
export function all(value: unknown): string[] {
  if (value === undefined || value === null) return []
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== null).map(String)
}
