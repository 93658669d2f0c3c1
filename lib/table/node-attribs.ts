import type { Row } from './driver.js'
import { translateRegexValue } from './regex-value.js'

/** Attributes whose node and group values are concatenated instead of first-wins: attribute name to delimiter. */
export type HierarchicalAttrs = ReadonlyMap<string, string>

/** Parses site.hierarchicalattrs, `attr[:delim],attr2,...` (delimiter defaults to ','). */
export function parseHierarchicalAttrs(value: string | null | undefined): HierarchicalAttrs {
  const attrs = new Map<string, string>()
  for (const item of (value ?? '').split(',')) {
    const trimmed = item.trim()
    // Perl truth: '' and '0' are false, so neither is an attribute nor a delimiter.
    if (!perlTrue(trimmed)) continue
    const m = /^(.*?)\s*:\s*(.*)$/s.exec(trimmed)
    const [attr, delim] = m ? [m[1] ?? '', perlTrue(m[2]) ? (m[2] ?? ',') : ','] : [trimmed, ',']
    if (perlTrue(attr)) attrs.set(attr, delim)
  }
  return attrs
}

function perlTrue(s: string | undefined): boolean {
  return s !== undefined && s !== '' && s !== '0'
}

/** What node attribute resolution needs: the table's rows by key, each node's groups, and the hierarchical attributes. */
export interface NodeAttribSources {
  readonly rowsByKey: ReadonlyMap<string, Row>
  readonly groupsOf: (node: string) => readonly string[]
  readonly hierarchical: HierarchicalAttrs
  /** False for nodelist, which xCAT never inherits from groups. */
  readonly inherit: boolean
}

/**
 * xCAT's getNodeAttribs for one node: the node's own row first, then its groups in nodelist.groups order fill what is
 * still unset (NULL or '', both count as unset), hierarchical attributes concatenate node and group values,
 * then every value is translated as a regex value for the node; an empty result drops the attribute.
 * Undefined when neither the node nor any of its groups has a value for a requested attribute.
 */
export function resolveNodeAttribs(node: string, cols: readonly string[], src: NodeAttribSources): Row | undefined {
  const own = src.rowsByKey.get(node)
  const merged: Record<string, string> = {}
  let found = 0
  let pending = 0
  const hierarchical = src.inherit && src.hierarchical.size > 0
  for (const col of cols) {
    const v = own?.[col]
    if (v) {
      merged[col] = v
      found++
      if (hierarchical && src.hierarchical.has(col)) pending++
    } else {
      pending++
    }
  }
  if (pending > 0 && src.inherit) {
    for (const group of src.groupsOf(node)) {
      const row = src.rowsByKey.get(group)
      if (!row) continue
      pending = 0
      for (const col of cols) {
        const delim = hierarchical ? src.hierarchical.get(col) : undefined
        const prev = merged[col]
        if (prev !== undefined && delim === undefined) continue
        // A group row's key is the group's name; xCAT reports the node's own name for it.
        const v = col === 'node' && row[col] ? node : row[col]
        if (v) {
          if (prev === undefined) {
            merged[col] = v
            found++
          } else {
            merged[col] = `${prev}${delim}${v}`
          }
        }
        if (merged[col] === undefined || delim !== undefined) pending++
      }
      if (pending === 0) break
    }
  }
  // Like xCAT, "no data" only when no requested attribute has a value, even if the node or a group has a row.
  if (found === 0) return undefined
  const result: Row = {}
  for (const col of cols) {
    const v = merged[col]
    if (v === undefined) continue
    const delim = hierarchical ? src.hierarchical.get(col) : undefined
    const value = delim === undefined ? v : uniqueItems(v, delim)
    const translated = value.charCodeAt(0) === 0x7c || value.charCodeAt(0) === 0x2f ? translateRegexValue(node, value) : value
    if (translated) result[col] = translated
  }
  return result
}

/** Perl's join($delim, grep { !$seen{$_}++ } split(/\Q$delim/, $value)): first occurrences, trailing empty items dropped. */
function uniqueItems(value: string, delim: string): string {
  const parts = value.split(delim)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return [...new Set(parts)].join(delim)
}
