import { first, type XcatRequest } from '../protocol/types.js'
import { perlRegex } from '../table/regex-value.js'
import type { Row } from '../table/driver.js'

/** Who sent a request: the certificate CN (undefined when anonymous) and the short host name it came from. */
export interface Peer {
  readonly name: string | undefined
  readonly host: string
}

/** What the policy check needs besides the rows: noderange expansion through the tables. */
export interface PolicyContext {
  readonly expand: (range: string) => Promise<string[]>
}

const ALLOW = /allow|accept|trusted/i

/** True when the peer's name is a `trusted` rule's name (it may then act for other users). */
export function isTrusted(rules: readonly Row[], peer: Peer): boolean {
  return rules.some((r) => r.name && r.name === peer.name && /trusted/i.test(r.rule ?? ''))
}

/**
 * xCAT's policy check (xcatd.pm validate): rules sorted by numeric priority, the first one whose set columns all
 * match decides (`allow`, `accept`, `trusted` allow; anything else denies); no match denies. A noderange rule that
 * allows some of the requested nodes passes the rest on to later rules.
 */
export async function authorize(rules: readonly Row[], peer: Peer, request: XcatRequest, ctx: PolicyContext): Promise<boolean> {
  const sorted = [...rules].sort((a, b) => Number(a.priority ?? 0) - Number(b.priority ?? 0))
  const command = first(request.command) ?? ''
  const remote = first(request.remote_client)
  const range = first(request.noderange)
  let left: string[] | undefined = range ? await ctx.expand(range) : undefined
  for (const rule of sorted) {
    if (rule.name && rule.name !== '*' && rule.name !== peer.name) continue
    if (rule.name === '*' && !peer.name) continue
    if (rule.host && rule.host !== '*') {
      const hosts = remote ? remote.split(',') : [peer.host]
      if (!hosts.includes(rule.host)) continue
    }
    if (rule.commands && rule.commands !== '*' && !rule.commands.split(',').includes(command)) continue
    if (rule.parameters && rule.parameters !== '*') {
      const re = perlRegex(rule.parameters)
      if (!re?.test((request.arg ?? []).join(' '))) continue
    }
    if (rule.noderange && rule.noderange !== '*') {
      if (!left || left.length === 0) continue
      const covered = new Set(await ctx.expand(rule.noderange))
      const outside = left.filter((n) => !covered.has(n))
      if (outside.length === left.length) continue
      if (outside.length > 0 && ALLOW.test(rule.rule ?? '')) {
        left = outside
        continue
      }
    }
    if (rule.rule) return ALLOW.test(rule.rule)
  }
  return false
}
