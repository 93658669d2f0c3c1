import type { DbValue, Row } from './driver.js'

/** tabdump's header line: `#` and the column names. */
export function csvHeader(cols: readonly string[]): string {
  return `#${cols.join(',')}`
}

/** One tabdump row: values quoted with `"` doubled, NULL and '' as empty fields (xCAT reads '' back as undef). */
export function csvRow(cols: readonly string[], row: Row): string {
  return cols
    .map((c) => {
      const v = row[c]
      return v === undefined || v === null || v === '' ? '' : `"${v.replace(/"/g, '""')}"`
    })
    .join(',')
}

/** A tabrestore input problem, with xCAT's message and errorcode. */
export interface CsvProblem {
  readonly message: string
  readonly errorcode: number
}

/** One parsed tabrestore record, with its line number and original text for messages. */
export interface CsvRecord {
  readonly line: number
  readonly text: string
  readonly values: Record<string, DbValue>
}

/** Parses a tabrestore header line; returns the columns or the error message. */
export function parseCsvHeader(line: string | undefined, table: string, known: readonly string[]): { cols: string[] } | CsvProblem {
  if (line === undefined || !line.startsWith('#')) return { message: 'Data missing header line starting with #', errorcode: 1 }
  const cols = line.replace(/"/g, '').slice(1).replace(/\s+$/, '').split(',')
  for (const col of cols) {
    if (!known.includes(col)) {
      return { message: `The header line indicates that column '${col}' should exist, which is not defined in the schema for '${table}'`, errorcode: 1 }
    }
  }
  return { cols }
}

/**
 * Parses tabrestore data lines (xCAT's tabutils.pm rules): empty field is NULL, `""` inside quotes is a quote,
 * a quoted value may continue over lines, too many fields is an error. Problems carry xCAT's messages: the line number
 * is 0-based (the record's last line; the line count for a quote left open at the end), the text is the record's first
 * line and the character is where the rest of the record starts in it (-1 once a quoted value spans lines). Unlike
 * xCAT, blank lines inside a quoted value are kept.
 */
export function parseCsvRecords(lines: readonly string[], cols: readonly string[]): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = []
  const problems: CsvProblem[] = []
  let lineNo = 0
  for (let i = 0; i < lines.length; i++, lineNo++) {
    const orig = (lines[i] ?? '').replace(/\s+$/, '')
    let rest = orig
    const values: Record<string, DbValue> = {}
    let failed = false
    for (const col of cols) {
      if (rest === '' || rest.startsWith(',')) {
        values[col] = null
        rest = rest.slice(1)
        continue
      }
      if (!rest.startsWith('"')) {
        const comma = rest.indexOf(',')
        const field = comma < 0 ? rest : rest.slice(0, comma)
        if (field.includes('"')) {
          problems.push({ message: `CSV missing opening " for record with " characters on line ${lineNo}, character ${orig.indexOf(rest)}: ${orig}`, errorcode: 4 })
          failed = true
          break
        }
        values[col] = field
        rest = comma < 0 ? '' : rest.slice(comma + 1)
        continue
      }
      let value = ''
      let pos = 1
      let field = rest
      for (;;) {
        const quote = rest.indexOf('"', pos)
        if (quote < 0) {
          if (i + 1 >= lines.length) {
            problems.push({ message: `CSV unmatched " in record on line ${lines.length}, character ${orig.indexOf(field)}: ${orig}`, errorcode: 4 })
            failed = true
            break
          }
          value += `${rest.slice(pos)}\n`
          const next = (lines[++i] ?? '').replace(/\s+$/, '')
          lineNo++
          field = `${field}\n${next}`.replace(/\s+$/, '')
          rest = next
          pos = 0
          continue
        }
        if (rest[quote + 1] === '"') {
          value += `${rest.slice(pos, quote)}"`
          pos = quote + 2
          continue
        }
        value += rest.slice(pos, quote)
        const after = rest.slice(quote + 1)
        if (after !== '' && !after.startsWith(',')) {
          problems.push({ message: `CSV unescaped " in record on line ${lineNo}, character ${orig.indexOf(field)}: ${orig}`, errorcode: 4 })
          failed = true
          break
        }
        rest = after.slice(1)
        break
      }
      if (failed) break
      values[col] = value
    }
    if (failed) continue
    if (rest !== '') {
      problems.push({ message: `Too many fields on line ${lineNo}: ${orig} | ${rest}`, errorcode: 4 })
      continue
    }
    records.push({ line: lineNo, text: orig, values })
  }
  return { records, problems }
}
