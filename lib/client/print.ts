import type { DataItem, NodeResponse, XcatResponse } from '../protocol/types.js'

/** Where printed text goes. */
export interface Output {
  stdout(text: string): void
  stderr(text: string): void
  /** True when stdout is a terminal: progress is drawn as a bar instead of printed as lines. */
  readonly isTTY?: boolean
}

const BAR_WIDTH = 30

/** Outputs whose last write was a progress bar: the next message starts on a new line. */
const barShown = new WeakSet<Output>()

/** A progress response drawn as a bar over the previous one (terminal) or printed as a plain line. */
function printProgress(rsp: XcatResponse, out: Output): boolean {
  const p = list(rsp.progress)[0] as Record<string, unknown> | undefined
  const text = firstOf(rsp.sinfo)
  if (!p) return false
  if (!out.isTTY) {
    out.stdout(`${text}\n`)
    return true
  }
  const percent = Math.max(0, Math.min(100, Number(firstOf(p.percent)) || 0))
  const filled = Math.round((percent / 100) * BAR_WIDTH)
  out.stdout(`\r[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${text}\x1b[K`)
  barShown.add(out)
  return true
}

/** The exit code so far: the bitwise OR of every errorcode received (xCAT's $xCAT::Client::EXITCODE). */
export class ExitCode {
  value = 0

  /** ORs every errorcode in `codes` into the exit code. */
  add(codes: readonly unknown[] | undefined): void {
    for (const c of codes ?? []) {
      const n = Number(c)
      if (Number.isFinite(n)) this.value |= Math.trunc(n)
    }
  }
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v))
const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v])

function firstOf(v: unknown): string {
  return text(list(v)[0])
}

/** Prints one response exactly as xCAT's client does (Client.pm handle_response). */
export function printResponse(rsp: XcatResponse, out: Output, exit: ExitCode, env: NodeJS.ProcessEnv = process.env): void {
  if (barShown.has(out) && rsp.progress === undefined) {
    barShown.delete(out)
    out.stdout('\n')
  }
  const source = firstOf(rsp.xcatdsource)
  const showSource = rsp.host !== undefined || (!!env.XCATSHOWSVR && rsp.NoSvrPrefix === undefined)
  exit.add(list(rsp.errorcode))
  for (const item of list(rsp.error)) {
    let desc = text(item)
    if (desc && source) desc = `[${source}]: ${desc}`
    if (rsp.NoErrorPrefix === undefined) desc = `Error: ${desc}`
    out.stderr(`${desc}\n`)
  }
  for (const item of list(rsp.warning)) {
    let desc = text(item)
    if (desc && source) desc = `[${source}]: ${desc}`
    if (rsp.NoWarnPrefix === undefined) desc = `Warning: ${desc}`
    out.stderr(`${desc}\n`)
  }
  for (const item of list(rsp.info)) {
    let desc = text(item)
    if (showSource && desc && source) desc = `[${source}]: ${desc}`
    out.stdout(`${desc}\n`)
  }
  if (!printProgress(rsp, out)) for (const item of list(rsp.sinfo)) out.stdout(`${text(item)}\r`)
  let toStderr = false
  for (const node of list(rsp.node) as NodeResponse[]) {
    exit.add(list(node.errorcode))
    let desc = firstOf(node.name)
    const tag = () => {
      desc = desc ? (source ? `${desc}: [${source}]` : desc) : source ? `[${source}]` : desc
    }
    if (node.error !== undefined) {
      tag()
      desc += `: Error: ${firstOf(node.error)}`
      toStderr = true
    }
    if (node.warning !== undefined) {
      tag()
      desc += `: Warning: ${firstOf(node.warning)}`
      toStderr = true
    }
    if (node.data !== undefined) {
      if (showSource) tag()
      const data = list(node.data)[0] as DataItem | undefined
      if (typeof data === 'object' && data !== null) {
        if (data.desc !== undefined) desc += `: ${firstOf(data.desc)}`
        if (data.contents !== undefined) desc += `: ${firstOf(data.contents)}`
      } else {
        desc += `: ${text(data)}`
      }
    }
    if (node.base64_data !== undefined) desc += `: ${Buffer.from(firstOf(node.base64_data), 'base64').toString()}`
    if (desc && desc !== `[${source}]`) (toStderr ? out.stderr : out.stdout)(`${desc}\n`)
  }
  for (const item of list(rsp.data) as DataItem[]) {
    let desc: string
    if (typeof item === 'object' && item !== null) {
      desc = firstOf(item.desc)
      if (item.contents !== undefined) desc = desc ? `${desc}: ${firstOf(item.contents)}` : firstOf(item.contents)
    } else {
      desc = text(item)
    }
    if (desc && desc !== '0') out.stdout(`${showSource && source ? `[${source}]: ` : ''}${desc}\n`)
  }
}
