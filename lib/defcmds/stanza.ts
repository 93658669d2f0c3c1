/** One object read from stanza input. */
export interface StanzaObject {
  readonly name: string
  readonly type: string | undefined
  readonly attrs: Record<string, string>
}

/**
 * Parses xCAT's stanza format: `name:` starts an object, `attr=value` lines follow (surrounding quotes removed),
 * blank and `#` lines are ignored, `default-<type>:` stanzas give defaults for objects of that type.
 */
export function parseStanzas(text: string): StanzaObject[] {
  const objects: { name: string; attrs: Record<string, string> }[] = []
  const defaults = new Map<string, Record<string, string>>()
  let current: { name: string; attrs: Record<string, string> } | undefined
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const header = /^(.*):$/.exec(line)
    if (header && !line.includes('=')) {
      const name = header[1] ?? ''
      const def = /^default-(.+)$/.exec(name)
      current = { name, attrs: {} }
      if (def) defaults.set(def[1] ?? '', current.attrs)
      else objects.push(current)
      continue
    }
    const eq = line.indexOf('=')
    if (eq < 0 || !current) continue
    current.attrs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1')
  }
  return objects.map(({ name, attrs }) => {
    const type = attrs.objtype
    const merged = { ...(type ? (defaults.get(type) ?? {}) : {}), ...attrs }
    delete merged.objtype
    return { name, type, attrs: merged }
  })
}
