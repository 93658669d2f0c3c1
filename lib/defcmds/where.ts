import { perlRegex } from '../table/regex-value.js'

/** A `-w` selection on an object attribute. */
export interface AttrFilter {
  readonly attr: string
  readonly test: (value: string) => boolean
}

/** Parses one `attr==val`, `attr=~re`, `attr!=val`, `attr!~re` or `attr=val` (xCAT's parse_selection_string order). */
export function parseSelection(text: string): AttrFilter | undefined {
  const forms: [RegExp, string, 'eq' | 'ne' | 're' | 'nre'][] = [
    [/^[^=]*==/, '==', 'eq'],
    [/^[^=]*=~/, '=~', 're'],
    [/^[^=]*!=/, '!=', 'ne'],
    [/[^=]*!~/, '!~', 'nre'],
    [/^[^=]*=[^=]+$/, '=', 'eq'],
  ]
  for (const [test, op, kind] of forms) {
    if (!test.test(text)) continue
    const at = text.indexOf(op)
    const attr = text.slice(0, at)
    let value = text.slice(at + op.length)
    if (kind === 'eq') return { attr, test: (v) => v === value }
    if (kind === 'ne') return { attr, test: (v) => v !== value }
    value = value.replace(/^\//, '').replace(/\/$/, '')
    const re = perlRegex(value)
    if (!re) return undefined
    return { attr, test: kind === 're' ? (v) => re.test(v) : (v) => !re.test(v) }
  }
  return undefined
}

/** Parses every `-w` value; a string is the error to report. */
export function parseWhereList(items: readonly string[]): AttrFilter[] | string {
  const filters: AttrFilter[] = []
  for (const item of items) {
    const f = parseSelection(item)
    if (!f) return 'Incorrect selection string specified with -w flag.'
    filters.push(f)
  }
  return filters
}
