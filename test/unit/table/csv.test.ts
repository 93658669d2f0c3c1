import { expect } from 'chai'
import { csvHeader, csvRow, parseCsvHeader, parseCsvRecords } from '../../../lib/table/csv.js'

const SITE = ['key', 'value', 'comments', 'disable']

describe('table/csv', () => {
  describe('csvHeader', () => {
    it('is # followed by the columns joined with commas', () => {
      expect(csvHeader(SITE)).to.equal('#key,value,comments,disable')
      expect(csvHeader(['node'])).to.equal('#node')
    })
  })

  describe('csvRow', () => {
    it('quotes values and leaves NULL columns empty', () => {
      expect(csvRow(SITE, { key: 'master', value: '10.0.0.1', comments: null, disable: null })).to.equal('"master","10.0.0.1",,')
    })

    it('writes an empty string like NULL, as xCAT reads it back as undef', () => {
      expect(csvRow(SITE, { key: 'k', value: '', comments: null, disable: '' })).to.equal('"k",,,')
    })

    it('treats a column missing from the row as NULL', () => {
      expect(csvRow(SITE, { key: 'k' })).to.equal('"k",,,')
    })

    it('doubles embedded quotes and keeps commas inside the quotes', () => {
      expect(csvRow(SITE, { key: 'a"b', value: '"x","y"', comments: 'c,d', disable: null })).to.equal('"a""b","""x"",""y""","c,d",')
    })

    it('writes embedded newlines raw inside the quotes', () => {
      expect(csvRow(SITE, { key: 'k', value: 'line1\nline2', comments: null, disable: null })).to.equal('"k","line1\nline2",,')
    })

    it('follows the column order given, not the row order', () => {
      expect(csvRow(['value', 'key'], { key: 'k', value: 'v' })).to.equal('"v","k"')
    })
  })

  describe('parseCsvHeader', () => {
    it('returns the columns of a valid header, any subset in any order', () => {
      expect(parseCsvHeader('#key,value,comments,disable', 'site', SITE)).to.deep.equal({ cols: SITE })
      expect(parseCsvHeader('#value,key', 'site', SITE)).to.deep.equal({ cols: ['value', 'key'] })
    })

    it('removes quotes and trailing whitespace', () => {
      expect(parseCsvHeader('#"key","value"  \r', 'site', SITE)).to.deep.equal({ cols: ['key', 'value'] })
    })

    it('requires a first line starting with #', () => {
      const missing = { message: 'Data missing header line starting with #', errorcode: 1 }
      expect(parseCsvHeader('key,value', 'site', SITE)).to.deep.equal(missing)
      expect(parseCsvHeader('', 'site', SITE)).to.deep.equal(missing)
      expect(parseCsvHeader(undefined, 'site', SITE)).to.deep.equal(missing)
    })

    it('rejects a column that is not in the schema', () => {
      expect(parseCsvHeader('#key,nosuch', 'site', SITE)).to.deep.equal({
        message: "The header line indicates that column 'nosuch' should exist, which is not defined in the schema for 'site'",
        errorcode: 1,
      })
    })

    it('does not trim spaces after commas, as xCAT does not', () => {
      expect(parseCsvHeader('#key, value', 'site', SITE)).to.deep.equal({
        message: "The header line indicates that column ' value' should exist, which is not defined in the schema for 'site'",
        errorcode: 1,
      })
    })
  })

  describe('parseCsvRecords', () => {
    const parse = (text: string) => parseCsvRecords(text.split('\n'), SITE)
    const values = (text: string) => parse(text).records.map((r) => r.values)
    const messages = (text: string) => parse(text).problems.map((p) => p.message)

    it('reads quoted values and takes an empty field as NULL', () => {
      expect(parse('"master","10.0.0.1",,')).to.deep.equal({
        records: [{ line: 0, text: '"master","10.0.0.1",,', values: { key: 'master', value: '10.0.0.1', comments: null, disable: null } }],
        problems: [],
      })
    })

    it('reads "" as the empty string, not NULL', () => {
      expect(values(',"",,')).to.deep.equal([{ key: null, value: '', comments: null, disable: null }])
    })

    it('reads "" inside quotes as one quote', () => {
      expect(values('"a""b","""",,')).to.deep.equal([{ key: 'a"b', value: '"', comments: null, disable: null }])
    })

    it('keeps commas inside quotes', () => {
      expect(values('"k","a,b,c",,')).to.deep.equal([{ key: 'k', value: 'a,b,c', comments: null, disable: null }])
    })

    it('keeps unquoted text as it is, spaces included', () => {
      expect(values('plain,text value ,,')).to.deep.equal([{ key: 'plain', value: 'text value ', comments: null, disable: null }])
    })

    it('gives NULL to columns missing at the end of a short line', () => {
      expect(values('"k"')).to.deep.equal([{ key: 'k', value: null, comments: null, disable: null }])
      expect(values('')).to.deep.equal([{ key: null, value: null, comments: null, disable: null }])
    })

    it('strips trailing whitespace and carriage returns from each line', () => {
      expect(values('"a","b",,  \r')).to.deep.equal([{ key: 'a', value: 'b', comments: null, disable: null }])
    })

    it('joins a quoted value that spans lines with newlines and numbers the record by its last line', () => {
      const { records, problems } = parse('"a","line1\nline2\nline3",,\n"b",,,')
      expect(problems).to.deep.equal([])
      expect(records).to.deep.equal([
        { line: 2, text: '"a","line1', values: { key: 'a', value: 'line1\nline2\nline3', comments: null, disable: null } },
        { line: 3, text: '"b",,,', values: { key: 'b', value: null, comments: null, disable: null } },
      ])
    })

    it('keeps blank lines inside a multi-line quoted value', () => {
      expect(values('"a","b\n\nc",,')).to.deep.equal([{ key: 'a', value: 'b\n\nc', comments: null, disable: null }])
    })

    it('reports too many fields with the line and the leftover text', () => {
      expect(parse('"a","x",,,extra').problems).to.deep.equal([{ message: 'Too many fields on line 0: "a","x",,,extra | extra', errorcode: 4 }])
      expect(messages('"a","b\nc",,,too')).to.deep.equal(['Too many fields on line 1: "a","b | too'])
    })

    it('reports a quote inside an unquoted field as a missing opening quote', () => {
      expect(parse('ab"c,d,,').problems).to.deep.equal([{ message: 'CSV missing opening " for record with " characters on line 0, character 0: ab"c,d,,', errorcode: 4 }])
      expect(messages('"a",b"c,,')).to.deep.equal(['CSV missing opening " for record with " characters on line 0, character 4: "a",b"c,,'])
    })

    it('reports a closing quote followed by text as an unescaped quote, at the start of the field', () => {
      expect(parse('"a","b"x,,').problems).to.deep.equal([{ message: 'CSV unescaped " in record on line 0, character 4: "a","b"x,,', errorcode: 4 }])
    })

    it('reports character -1 and the first line once the bad quoted value spans lines, as xCAT does', () => {
      expect(messages('"a","b\nc"x,,')).to.deep.equal(['CSV unescaped " in record on line 1, character -1: "a","b'])
    })

    it('reports a quote still open at the end with the number of data lines', () => {
      expect(parse('"a","b').problems).to.deep.equal([{ message: 'CSV unmatched " in record on line 1, character 4: "a","b', errorcode: 4 }])
      expect(messages('"ok",,,\n"a","b\nc')).to.deep.equal(['CSV unmatched " in record on line 3, character -1: "a","b'])
    })

    it('keeps going after a bad line, counting lines from 0 after the header', () => {
      const { records, problems } = parse('"a"\n"b","c"x,,\n"d",e"f\n"ok",,,')
      expect(records.map((r) => [r.line, r.values.key])).to.deep.equal([
        [0, 'a'],
        [3, 'ok'],
      ])
      expect(problems.map((p) => p.message)).to.deep.equal([
        'CSV unescaped " in record on line 1, character 4: "b","c"x,,',
        'CSV missing opening " for record with " characters on line 2, character 4: "d",e"f',
      ])
    })

    it('parses only the columns of the header, in its order', () => {
      const { records } = parseCsvRecords(['"v","k"'], ['value', 'key'])
      expect(records[0]?.values).to.deep.equal({ value: 'v', key: 'k' })
    })
  })
})
