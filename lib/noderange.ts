import { readFileSync } from 'node:fs'
import { XcatError } from './errors.js'
import { nodeAttributeColumn } from './objects/defs.js'
import { perlRegex } from './table/regex-value.js'
import { splitList, type Tables } from './table/tables.js'

/** The result of expanding a noderange: the nodes (sorted as xCAT sorts them) and the names that do not exist. */
export interface NoderangeResult {
  readonly nodes: string[]
  readonly missing: string[]
}

/** Options of {@link expandNoderange}. */
export interface NoderangeOptions {
  /** False to let unknown names through as node names (xCAT's verify=0, used by nodeadd and mkdef). */
  readonly verify?: boolean
  /** Honour site.excludenodes (default true). */
  readonly excludeSite?: boolean
  /** Environment holding XCAT_NODE_PREFIX / XCAT_NODE_SUFFIX for all-digit atoms. */
  readonly env?: NodeJS.ProcessEnv
}

/** Everything the expansion reads from the database, fetched once per expansion. */
interface Snapshot {
  readonly nodes: ReadonlySet<string>
  readonly order: readonly string[]
  readonly members: ReadonlyMap<string, readonly string[]>
  readonly nodegroups: ReadonlyMap<string, { grouptype: string | null; wherevals: string | null }>
  readonly excludenodes: string | undefined
}

const MAX_DEPTH = 4096

/** Text::Balanced's extract_bracketed(text, '()') after a run of non-parentheses. */
function extractParens(text: string): { start: string; middle: string; end: string } | undefined {
  const open = text.search(/[()]/)
  if (open < 0 || text[open] !== '(') return undefined
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '(') depth++
    else if (text[i] === ')' && --depth === 0) return { start: text.slice(0, open), middle: text.slice(open + 1, i), end: text.slice(i + 1) }
  }
  return undefined
}

/** Perl's `$l .. $r` on digit strings: the magic string increment when $l has a leading zero, else numeric. */
export function perlRange(left: string, right: string): string[] {
  const out: string[] = []
  // '' is no magic sequence: Perl returns it alone.
  if (left === '') return ['']
  if (left.length > 1 && left.startsWith('0')) {
    let cur = left
    while (cur.length <= right.length) {
      out.push(cur)
      if (cur === right || out.length > 1_000_000) break
      cur = (BigInt(cur) + 1n).toString().padStart(cur.length, '0')
    }
    return out
  }
  const l = Number(left)
  const r = Number(right)
  for (let i = l; i <= r && out.length <= 1_000_000; i++) out.push(String(i))
  return out
}

/** Perl's split(/(\d+)/, s): text and digit runs alternating, trailing empty fields dropped. */
function splitDigits(s: string): string[] {
  const parts = s.split(/(\d+)/)
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

class Expander {
  readonly missing: string[] = []
  #depth = 0
  #excluded: Promise<Set<string>> | undefined

  constructor(
    private readonly tables: Tables,
    private readonly snap: Snapshot,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async range(input: string, verify: boolean, excludeSite: boolean): Promise<Set<string>> {
    if (++this.#depth > MAX_DEPTH) throw new XcatError('XCAT_ERR_BAD_NODERANGE', `NodeRange seems to be hung on evaluating ${input}, recursion limit hit`)
    try {
      return await this.#range(input.replace(/['"]/g, ''), verify, excludeSite)
    } finally {
      this.#depth--
    }
  }

  async #range(text: string, verify: boolean, excludeSite: boolean): Promise<Set<string>> {
    let range = text
    let nodes = new Set<string>()
    const deleted = new Set<string>()
    if (range.includes('(')) {
      const parts = extractParens(range)
      if (!parts) throw new XcatError('XCAT_ERR_BAD_NODERANGE', 'Unbalanced parentheses in noderange')
      const op = parts.start.endsWith('-') ? ',-' : parts.start.endsWith('@') ? '@' : ','
      const start = parts.start.replace(/,-$/, '').replace(/,$/, '').replace(/@$/, '')
      nodes = await this.range(start, verify, excludeSite)
      apply(nodes, op, await this.range(parts.middle, verify, excludeSite), undefined)
      range = parts.end
    }
    let elems = range.split(/(,(?![^[]*?\])(?![^(]*?\)))/)
    if (elems.length === 1) elems = range.split(/(@(?![^(]*?\)))/)
    let op = ','
    for (let i = 0; i < elems.length; i++) {
      let atom = elems[i] ?? ''
      if (atom === '' || atom === ',') continue
      if (atom.startsWith('-')) {
        atom = atom.slice(1)
        op += '-'
      } else if (atom.startsWith('@')) {
        atom = atom.slice(1)
        op = '@'
      }
      if (atom === '') continue
      const set = atom.startsWith('^') ? await this.#file(atom.slice(1), verify, excludeSite) : new Set(await this.atom(atom, verify, false))
      apply(nodes, op, set, deleted)
      op = elems[++i] ?? ','
    }
    if (excludeSite && this.snap.excludenodes) {
      // Evaluated once per expansion, so its missing names are reported once.
      this.#excluded ??= this.range(this.snap.excludenodes, true, false)
      for (const n of await this.#excluded) deleted.add(n)
    }
    for (const n of deleted) nodes.delete(n)
    return nodes
  }

  async #file(path: string, verify: boolean, excludeSite: boolean): Promise<Set<string>> {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      return new Set()
    }
    const nodes = new Set<string>()
    for (const line of text.split('\n')) {
      if (/^[\^#]/.test(line)) continue
      const entry = /^([^:\t ]*)/.exec(line)?.[1] ?? ''
      if (entry === '') continue
      for (const n of await this.range(entry, verify, excludeSite)) nodes.add(n)
    }
    return nodes
  }

  async atom(atom: string, verify: boolean, generic: boolean): Promise<string[]> {
    if (++this.#depth > MAX_DEPTH) throw new XcatError('XCAT_ERR_BAD_NODERANGE', `NodeRange seems to be hung on evaluating ${atom}, recursion limit hit`)
    try {
      return await this.#atom(atom, verify, generic)
    } finally {
      this.#depth--
    }
  }

  #notFound(atom: string, verify: boolean): string[] {
    if (!verify) return [atom]
    this.missing.push(atom)
    return []
  }

  async #atom(atom: string, verify: boolean, generic: boolean): Promise<string[]> {
    const snap = this.snap
    if (!generic && snap.nodes.has(atom)) return [atom]
    if (/^\(.*\)$/s.test(atom)) return [...(await this.range(atom.slice(1, -1), verify, true))]
    if (atom.includes('@')) return [...(await this.range(atom, verify, true))]
    let groupNodes: readonly string[] = []
    if (!generic) {
      const def = snap.nodegroups.get(atom)
      if (def?.grouptype === 'dynamic') groupNodes = await dynamicMembers(this.tables, snap, def.wherevals)
      else groupNodes = snap.members.get(atom) ?? []
      if (groupNodes.length === 0 && def) return []
    }
    if (/[=~]/.test(atom)) return selectByAttribute(this.tables, snap, atom)
    if (/^[0-9]+$/.test(atom)) return this.atom(`${this.env.XCAT_NODE_PREFIX ?? 'node'}${atom}${this.env.XCAT_NODE_SUFFIX ?? ''}`, verify, false)
    if (groupNodes.length > 0) return [...groupNodes]
    if (atom.startsWith('/')) {
      if (!verify || generic) return [atom]
      // m/^${re}$/ as xCAT writes it: `/a|b` is ^a or b$.
      const re = perlRegex(`^${atom.slice(1)}$`)
      if (!re) throw new XcatError('XCAT_ERR_BAD_NODERANGE', `Invalid regular expression ${atom}, check the noderange syntax.`)
      return snap.order.filter((n) => re.test(n))
    }
    const bracket = /^(.+?)\[(.+?)\](.*)$/s.exec(atom)
    if (bracket) return this.#brackets(bracket[1] ?? '', bracket[2] ?? '', bracket[3] ?? '', verify, generic)
    if (atom.includes('+')) return this.#plus(atom, verify)
    if (/[-:]/.test(atom)) return this.#span(atom, verify)
    return this.#notFound(atom, verify)
  }

  async #brackets(start: string, inner: string, ending: string, verify: boolean, generic: boolean): Promise<string[]> {
    const sub = inner.split(/([,\-:])/)
    while (sub.length > 0 && sub[sub.length - 1] === '') sub.pop()
    const more = /\[.+?\]/.test(ending)
    let subrange = ''
    for (let i = 0; i < sub.length; i += 2) subrange += `${start}${sub[i] ?? ''}${more ? '' : ending}${sub[i + 1] ?? ''}`
    const nodes: string[] = []
    for (const part of subrange.split(',')) {
      if (part === '') continue
      const expanded = await this.atom(part, more ? false : verify, more || generic)
      if (!more) nodes.push(...expanded)
      else for (const n of expanded) nodes.push(...(await this.atom(`${n}${ending}`, verify, generic)))
    }
    return nodes
  }

  async #plus(atom: string, verify: boolean): Promise<string[]> {
    const plus = atom.indexOf('+')
    const front = /^(.*?)(\d+)(\..+)?$/s.exec(atom.slice(0, plus))
    if (!front) return this.#notFound(atom, verify)
    // Perl's numeric view of the increment: `+-1`, `+ 2`, `+1.5` and `+1e1` all count.
    const increment = Number(/^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(atom.slice(plus + 1))?.[1] ?? 0)
    let pref = front[1] ?? ''
    const startnum = front[2] ?? ''
    let suf = front[3] ?? ''
    const sum = Math.trunc(Number(startnum) + increment)
    const end = String(sum)
    // sprintf("%0*d"): the zeros go after a minus sign.
    const endnum = startnum.length <= end.length ? end : sum < 0 ? `-${String(-sum).padStart(startnum.length - 1, '0')}` : end.padStart(startnum.length, '0')
    if (pref === '' && suf === '') {
      pref = this.env.XCAT_NODE_PREFIX ?? 'node'
      suf = this.env.XCAT_NODE_SUFFIX ?? ''
    }
    const nodes: string[] = []
    for (const n of perlRange(startnum, endnum)) nodes.push(...(await this.atom(`${pref}${n}${suf}`, verify, false)))
    return nodes
  }

  async #span(atom: string, verify: boolean): Promise<string[]> {
    let left: string
    let right: string
    if (atom.includes(':')) {
      ;[left = '', right = ''] = atom.split(':')
    } else {
      const count = atom.split('-').length - 1
      if (count % 2 === 0) return this.#notFound(atom, verify)
      const m = new RegExp(`^([^-]+?${'-[^-]*'.repeat(Math.floor(count / 2))})-(.*)$`, 's').exec(atom)
      left = m?.[1] ?? ''
      right = m?.[2] ?? ''
    }
    if (left === right) return this.atom(left, verify, false)
    const l = splitDigits(left)
    const r = splitDigits(right)
    if (l.length !== r.length) return this.#notFound(atom, verify)
    for (let i = 0; i < l.length; i++) {
      const a = l[i] ?? ''
      const b = r[i] ?? ''
      if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
        if (a === b) continue
        if (l.slice(i + 1).join('') !== r.slice(i + 1).join('')) return this.#notFound(atom, verify)
        const prefix = l.slice(0, i).join('')
        const suffix = l.slice(i + 1).join('')
        const nodes: string[] = []
        for (const n of perlRange(a, b)) nodes.push(...(await this.atom(`${prefix}${n}${suffix}`, verify, false)))
        return nodes
      }
      if (a !== b) return this.#notFound(atom, verify)
    }
    return this.#notFound(atom, verify)
  }
}

function apply(nodes: Set<string>, op: string, set: ReadonlySet<string>, deleted: Set<string> | undefined): void {
  if (op.includes('@')) {
    for (const n of nodes) if (!set.has(n)) nodes.delete(n)
  } else if (op.includes(',-')) {
    for (const n of set) {
      if (deleted) deleted.add(n)
      else nodes.delete(n)
    }
  } else {
    for (const n of set) nodes.add(n)
  }
}

type Matcher = (value: string) => boolean

/** Parses `attr==v`, `attr=v`, `attr!=v`, `attr=~re`, `attr!~re` the way xCAT's selectors do. */
function parseSelector(text: string, order: 'noderange' | 'wherevals'): { attr: string; match: Matcher } | undefined {
  const tests: [RegExp, string, 'eq' | 'ne' | 're' | 'nre'][] =
    order === 'noderange'
      ? [[/^[^=]*!=/, '!=', 'ne'], [/^[^=]*=~/, '=~', 're'], [/[^=]*==/, '==', 'eq'], [/[^=]*=/, '=', 'eq'], [/[^=]*!~/, '!~', 'nre']]
      : [[/^[^=]*==/, '==', 'eq'], [/^[^=]*=~/, '=~', 're'], [/^[^=]*!=/, '!=', 'ne'], [/[^=]*!~/, '!~', 'nre'], [/^[^=]*=[^=]+$/, '=', 'eq']]
  for (const [test, op, kind] of tests) {
    if (!test.test(text)) continue
    const at = text.indexOf(op)
    const attr = text.slice(0, at)
    let value = text.slice(at + op.length)
    if (kind === 're' || kind === 'nre') value = value.replace(/^\//, '').replace(/\/$/, '')
    // Perl's empty pattern reuses the last successful one: expandatom's /[=~]/ in a noderange.
    if ((kind === 're' || kind === 'nre') && value === '' && order === 'noderange') value = '[=~]'
    if (kind === 'eq') return { attr, match: (v) => v === value }
    if (kind === 'ne') return { attr, match: (v) => v !== value }
    const re = perlRegex(value)
    if (!re) throw new XcatError('XCAT_ERR_BAD_NODERANGE', `Invalid regular expression ${value} in ${text}, check the noderange syntax.`)
    return { attr, match: kind === 're' ? (v) => re.test(v) : (v) => !re.test(v) }
  }
  return undefined
}

const SHORT_NAMES: Readonly<Record<string, string>> = { groups: 'nodelist.groups', tags: 'nodelist.groups', mgt: 'nodehm.mgt' }

async function selectByAttribute(tables: Tables, snap: Snapshot, atom: string): Promise<string[]> {
  const sel = parseSelector(atom, 'noderange')
  if (!sel) return []
  const name = SHORT_NAMES[sel.attr] ?? sel.attr
  const dot = name.indexOf('.')
  if (dot < 0) return []
  const [table, col] = [name.slice(0, dot), name.slice(dot + 1)]
  let values: Map<string, Record<string, string | null>>
  try {
    values = await tables.getNodesAttribs(table, snap.order, [col])
  } catch (err) {
    if (err instanceof XcatError && (err.code === 'XCAT_ERR_NO_TABLE' || err.code === 'XCAT_ERR_NO_COLUMN')) return []
    throw err
  }
  return snap.order.filter((n) => sel.match(values.get(n)?.[col] ?? ''))
}

/** Members of a dynamic group: the nodes whose object attributes satisfy every `::`-separated wherevals condition. */
async function dynamicMembers(tables: Tables, snap: Snapshot, wherevals: string | null): Promise<string[]> {
  const conditions = new Map<string, Matcher>()
  for (const item of (wherevals ?? '').split('::')) {
    const sel = parseSelector(item, 'wherevals')
    if (sel) conditions.set(sel.attr, sel.match)
  }
  let candidates = [...snap.order]
  for (const [attr, match] of conditions) {
    if (attr === 'node') {
      candidates = candidates.filter((n) => match(n))
      continue
    }
    const column = nodeAttributeColumn(attr)
    if (!column) return []
    const values = await tables.getNodesAttribs(column.table, candidates, [column.col])
    candidates = candidates.filter((n) => {
      const v = values.get(n)?.[column.col]
      return v !== undefined && v !== null && match(v)
    })
  }
  return candidates
}

async function snapshot(tables: Tables): Promise<Snapshot> {
  const rows = await tables.getAllEntries('nodelist')
  const nodes = new Set<string>()
  const order: string[] = []
  const members = new Map<string, string[]>()
  for (const row of rows) {
    const node = row.node ?? ''
    if (node === '' && !row.groups) continue
    if (!nodes.has(node)) order.push(node)
    nodes.add(node)
    for (const g of splitList(row.groups)) {
      const list = members.get(g) ?? []
      list.push(node)
      members.set(g, list)
    }
  }
  const nodegroups = new Map<string, { grouptype: string | null; wherevals: string | null }>()
  for (const row of await tables.getAllEntries('nodegroup')) {
    if (row.groupname && !nodegroups.has(row.groupname)) nodegroups.set(row.groupname, { grouptype: row.grouptype ?? null, wherevals: row.wherevals ?? null })
  }
  return { nodes, order, members, nodegroups, excludenodes: (await tables.site('excludenodes')) || undefined }
}

/** xCAT's noderange(): the full grammar (ranges, brackets, groups, `-` exclusion, `@` intersection, regex, `^file`, selectors). */
export async function expandNoderange(tables: Tables, range: string, options: NoderangeOptions = {}): Promise<NoderangeResult> {
  const expander = new Expander(tables, await snapshot(tables), options.env ?? process.env)
  const nodes = await expander.range(range, options.verify ?? true, options.excludeSite ?? true)
  return { nodes: [...nodes].sort(), missing: expander.missing }
}
