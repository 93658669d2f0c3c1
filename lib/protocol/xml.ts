import { Parser } from 'xml2js'

/**
 * xCAT's wire format is Perl XML::Simple's: `XMLout(h, RootName => root, NoAttr => 1, KeyAttr => [])` to write and
 * `XMLin(x, SuppressEmpty => undef, ForceArray => qr/.*\/)` to read. Every element becomes an array, an empty element
 * is undef (null here), nested elements become hashes.
 */

/** A value in xCAT's request/response trees. */
export type XmlValue = string | number | null | undefined | XmlTree | XmlValue[]

/** An element's children by name. */
export interface XmlTree {
  [key: string]: XmlValue
}

/** XML::Simple's escaping of element text: & < > and ". */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
}

function emit(name: string, value: XmlValue, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) emit(name, item, indent, out)
    return
  }
  if (value === undefined || value === null) {
    out.push(`${indent}<${name}></${name}>\n`)
  } else if (typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort()
    if (keys.length === 0) {
      out.push(`${indent}<${name}></${name}>\n`)
      return
    }
    out.push(`${indent}<${name}>\n`)
    for (const k of keys) emit(k, value[k], `${indent}  `, out)
    out.push(`${indent}</${name}>\n`)
  } else {
    out.push(`${indent}<${name}>${escapeXml(String(value))}</${name}>\n`)
  }
}

/** Serializes `tree` under `root` exactly as XMLout does: keys sorted, 2-space indent, one element per line. */
export function toXml(root: string, tree: XmlTree): string {
  const out: string[] = []
  emit(root, tree, '', out)
  return out.join('')
}

/** What xcatd does to every byte it sends: anything outside TAB..DEL becomes '?'. */
export function asciiOnly(text: string): string {
  return text.replace(/[^\t-\x7f]/gu, '?')
}

/** A document that is not a well-formed xCAT request or response. */
export class XmlFormatError extends Error {}

/** Limits on one parsed document, against hostile input. */
const MAX_ELEMENTS = 1_000_000

function normalize(value: unknown): XmlValue {
  if (Array.isArray(value)) return value.map(normalize)
  if (value === null || value === undefined || value === '') return null
  if (typeof value === 'object') {
    const out: XmlTree = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === '$' || k === '_') continue
      out[k] = normalize(v)
    }
    return out
  }
  return String(value)
}

/**
 * Parses one document whose root is `root` into XMLin's ForceArray shape (the root itself unwrapped). A DTD, an
 * entity other than the five predefined ones, attributes or more than a million elements make it invalid.
 */
export async function parseXml(xml: string, root: string): Promise<XmlTree> {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new XmlFormatError('DTDs and entity declarations are not accepted')
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)([^;\s]{0,20};?)/.exec(xml)
  if (entity) throw new XmlFormatError(`undefined entity &${entity[1] ?? ''}`)
  if (!new RegExp(`</${root}>\\s*$`).test(xml)) throw new XmlFormatError('junk after document element')
  const elements = xml.match(/<[A-Za-z_]/g)?.length ?? 0
  if (elements > MAX_ELEMENTS) throw new XmlFormatError('too many elements')
  const parser = new Parser({ explicitArray: true, explicitRoot: true, ignoreAttrs: true, emptyTag: () => null, strict: true, async: false })
  let parsed: unknown
  try {
    parsed = await parser.parseStringPromise(xml)
  } catch (err) {
    throw new XmlFormatError((err as Error).message.split('\n')[0] ?? 'malformed XML')
  }
  const top = (parsed as Record<string, unknown> | null)?.[root]
  if (parsed === null || typeof parsed !== 'object' || Object.keys(parsed).length !== 1 || top === undefined) {
    throw new XmlFormatError(`the document is not an <${root}>`)
  }
  const tree = normalize(top)
  return tree !== null && typeof tree === 'object' && !Array.isArray(tree) ? tree : {}
}
