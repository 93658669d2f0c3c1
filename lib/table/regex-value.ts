import { ArithError, evalPerlArith } from './perl-arith.js'

const SLASH_FORM = /^\/[^/]*\/[^/]*\/$/
const PIPE_FORM = /^\|.*\|$/s

/** True when a table value is one of xCAT's per-node regular-expression forms. */
export function isRegexValue(value: string): boolean {
  return SLASH_FORM.test(value) || PIPE_FORM.test(value)
}

const regexCache = new Map<string, RegExp | null>()

/** Compiles a Perl pattern as xCAT's tables use it; null when JavaScript cannot express it. */
export function perlRegex(pattern: string): RegExp | null {
  let re = regexCache.get(pattern)
  if (re !== undefined) return re
  try {
    // A leading (?i), (?s) or (?m) becomes a flag; JavaScript has no inline modifiers.
    const inline = /^\(\?([ims]+)\)/.exec(pattern)
    const flags = inline?.[1] ?? ''
    // \z, \Z and \A have no JavaScript spelling; without the m flag ^ and $ mean the same for node names.
    re = new RegExp(pattern.slice(inline?.[0].length ?? 0).replace(/(^|[^\\])((?:\\\\)*)\\([zZA])/g, (_m, pre: string, esc: string, k: string) => `${pre}${esc}${k === 'A' ? '^' : '$'}`), [...new Set(flags)].join(''))
  } catch {
    re = null
  }
  if (regexCache.size > 10_000) regexCache.clear()
  regexCache.set(pattern, re)
  return re
}

/** Perl's `$s =~ s/pattern/replacement/` with a literal replacement: the first match only. */
function substituteFirst(subject: string, re: RegExp, replacement: string): { text: string; captures: (string | undefined)[] } | undefined {
  const m = re.exec(subject)
  if (!m) return undefined
  return { text: subject.slice(0, m.index) + replacement + subject.slice(m.index + m[0].length), captures: [...m] }
}

/** Text::Balanced's extract_bracketed(text, '()') after a run of non-parentheses: [bracketed, rest, prefix]. */
function extractBracketed(text: string): [string, string, string] | undefined {
  const open = text.search(/[()]/)
  if (open < 0 || text[open] !== '(') return undefined
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === '\\') {
      i++
    } else if (c === '(') {
      depth++
    } else if (c === ')' && --depth === 0) {
      return [text.slice(open, i + 1), text.slice(i + 1), text.slice(0, open)]
    }
  }
  return undefined
}

function generatedPattern(node: string): string {
  const groups = node.match(/[\D0]*(\d+)/g) ?? []
  return '[\\D0]*(\\d+)'.repeat(groups.length) + '.*$'
}

/**
 * xCAT's transRegexAttrs: turns a `/pat/repl/` or `|pat|repl|` value into the value for `node`
 * (`|\D+(\d+)|10.0.0.($1+0)|` on node05 gives 10.0.0.5). Undefined means "no value" (xCAT deletes the attribute).
 */
export function translateRegexValue(node: string, value: string): string | undefined {
  if (SLASH_FORM.test(value)) {
    const [pattern = '', replacement = ''] = splitTwo(value.slice(1, -1), '/')
    const re = nonEmptyRegex(pattern)
    const result = re ? (substituteFirst(node, re, replacement)?.text ?? node) : node
    return result === '' ? undefined : result
  }
  if (!PIPE_FORM.test(value)) return value === '' ? undefined : value
  const parts = splitTwo(value.slice(1, -1), '|')
  const [pattern, replacement] = parts.length < 2 ? [generatedPattern(node), parts[0] ?? ''] : parts
  const re = nonEmptyRegex(pattern ?? '')
  if (!re) return node
  let bracket = extractBracketed(replacement ?? '')
  if (!bracket) {
    const plain = substituteFirst(node, re, replacement ?? '')?.text ?? node
    return plain === '' ? undefined : plain
  }
  // Perl substitutes each (...) group into the node name in place of the match and evaluates the result.
  const m = re.exec(node)
  if (!m) return node
  const before = node.slice(0, m.index)
  const after = node.slice(m.index + m[0].length)
  const captures = [...m]
  let computed = replacement ?? ''
  while (bracket) {
    const [expr, next, prev] = bracket
    computed = prev + evaluate(before + expr + after, captures) + next
    bracket = extractBracketed(computed)
  }
  const result = before + computed + after
  return result === '' ? undefined : result
}

/**
 * An empty Perl pattern reuses the last successful match, which in transRegexAttrs is the test for the value's form:
 * it never matches a node name.
 */
function nonEmptyRegex(pattern: string): RegExp | null {
  return pattern === '' ? null : perlRegex(pattern)
}

function evaluate(expr: string, captures: readonly (string | undefined)[]): string {
  try {
    return evalPerlArith(expr, captures)
  } catch (err) {
    if (err instanceof ArithError) return ''
    throw err
  }
}

/** Perl's split(/sep/, text, 2). */
function splitTwo(text: string, sep: string): string[] {
  const at = text.indexOf(sep)
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)]
}
