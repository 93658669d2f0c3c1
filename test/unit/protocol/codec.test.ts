import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponses, serverDone } from '../../../lib/protocol/codec.js'
import type { XcatRequest, XcatResponse } from '../../../lib/protocol/types.js'
import { asciiOnly, escapeXml, parseXml, toXml, XmlFormatError } from '../../../lib/protocol/xml.js'

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'xml')

const xml = (name: string) => readFileSync(join(FIXTURES, `${name}.xml`), 'utf8')
const twin = <T>(name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as T[]
const documents = (text: string, root: string) => text.match(new RegExp(`<${root}>[\\s\\S]*?</${root}>`, 'g')) ?? []

const REQUESTS = ['nodeset-request', 'abort-request', 'getdestiny-request', 'getpostscript-request']
const RESPONSES = ['nodels-responses', 'permission-denied', 'escaped-responses']

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('protocol codec', () => {
  describe('fixtures', () => {
    for (const name of REQUESTS) {
      it(`${name}.xml parses to its JSON twin`, async () => {
        const docs = documents(xml(name), 'xcatrequest')
        const parsed = await Promise.all(docs.map((d) => parseXml(d, 'xcatrequest')))
        expect(parsed).to.deep.equal(twin<XcatRequest>(name))
      })
    }

    for (const name of REQUESTS.filter((n) => n !== 'abort-request')) {
      it(`decodeRequest gives the JSON twin of ${name}.xml`, async () => {
        const docs = documents(xml(name), 'xcatrequest')
        expect(await Promise.all(docs.map((d) => decodeRequest(d)))).to.deep.equal(twin<XcatRequest>(name))
      })
    }

    it('decodeRequest accepts the abort request, which has no command', async () => {
      const [abort] = twin<XcatRequest>('abort-request')
      expect(await decodeRequest(xml('abort-request'))).to.deep.include(abort!)
    })

    for (const name of RESPONSES) {
      it(`${name}.xml decodes to its JSON twin`, async () => {
        const docs = documents(xml(name), 'xcatresponse')
        const decoded = await Promise.all(docs.map((d) => decodeResponse(d)))
        expect(decoded).to.deep.equal(twin<XcatResponse>(name))
      })
    }

    it('encodeRequest writes the nodeset request byte for byte as XMLout does', () => {
      const [request] = twin<XcatRequest>('nodeset-request')
      expect(encodeRequest(request!)).to.equal(xml('nodeset-request'))
    })

    it('encodeRequest accepts the environment as a plain hash, as xcatclient builds it', () => {
      const request = { command: ['nodeset'], cwd: ['/root'], clienttype: ['cli'], noderange: ['compute01-compute03'], arg: ['osimage=img1'], environment: { XCAT_FOO: 'bar' } } as unknown as XcatRequest
      expect(encodeRequest(request)).to.equal(xml('nodeset-request'))
    })

    it('encodeRequest writes the abort request byte for byte', () => {
      expect(encodeRequest({ abortcommand: ['1'] } as unknown as XcatRequest)).to.equal(xml('abort-request'))
      expect(encodeRequest({ abortcommand: [1] } as unknown as XcatRequest)).to.equal(xml('abort-request'))
    })

    for (const name of RESPONSES) {
      it(`encodeResponses reproduces ${name}.xml from its JSON twin`, () => {
        expect(encodeResponses(twin<XcatResponse>(name))).to.equal(xml(name))
      })

      it(`encodeResponses adds xcatdsource to every response but serverdone in ${name}.xml`, () => {
        const bare = twin<XcatResponse>(name).map(({ xcatdsource: _source, ...rest }) => rest)
        expect(encodeResponses(bare, 'mn01')).to.equal(xml(name))
      })
    }

    it('encodeResponses writes one response per call the same as a batch', () => {
      const responses = twin<XcatResponse>('nodels-responses')
      expect(responses.map((r) => encodeResponses([r])).join('')).to.equal(xml('nodels-responses'))
    })

    it('the permission denial has no xcatdsource because it carries serverdone', () => {
      expect(encodeResponses([{ error: ['Permission denied for request'], errorcode: ['1'], ...serverDone() }], 'mn01')).to.equal(xml('permission-denied'))
    })
  })

  describe('toXml', () => {
    it('sorts keys, indents by two spaces and puts every element on its own line', () => {
      expect(toXml('r', { b: ['2'], a: [{ z: ['x'], y: [null] }], c: [] })).to.equal('<r>\n  <a>\n    <y></y>\n    <z>x</z>\n  </a>\n  <b>2</b>\n</r>\n')
    })

    it('repeats an element for every array item and writes null items as empty elements', () => {
      expect(toXml('r', { arg: ['a', null, 'b'] })).to.equal('<r>\n  <arg>a</arg>\n  <arg></arg>\n  <arg>b</arg>\n</r>\n')
    })

    it('writes an empty hash as an empty element', () => {
      expect(toXml('r', { e: [{}] })).to.equal('<r>\n  <e></e>\n</r>\n')
    })

    it('escapes & < > and " but not the apostrophe', () => {
      expect(escapeXml(`a&b<c>d"e'f`)).to.equal(`a&amp;b&lt;c&gt;d&quot;e'f`)
      expect(toXml('r', { data: ['&amp;'] })).to.equal('<r>\n  <data>&amp;amp;</data>\n</r>\n')
    })

    it('keeps a multi-line value inside one element', () => {
      expect(toXml('r', { data: ['one\ntwo'] })).to.equal('<r>\n  <data>one\ntwo</data>\n</r>\n')
    })
  })

  describe('asciiOnly', () => {
    it('replaces é with one ?', () => {
      expect(asciiOnly('café')).to.equal('caf?')
    })

    it('replaces an emoji with one ?', () => {
      expect(asciiOnly('ok \u{1F600}!')).to.equal('ok ?!')
    })

    it('replaces every character outside TAB..DEL', () => {
      expect(asciiOnly('\x00\x01\x08\t\x80\xa0\xff\u0100\u2028\uffff')).to.equal('???\t??????')
    })

    it('keeps every character from TAB to DEL, ESC included', () => {
      let kept = ''
      for (let c = 0x09; c <= 0x7f; c++) kept += String.fromCharCode(c)
      expect(asciiOnly(kept)).to.equal(kept)
    })

    it('is applied to everything encodeResponses writes', () => {
      expect(encodeResponses([{ data: ['naïve ☕'] }], 'mn')).to.equal('<xcatresponse>\n  <data>na?ve ?</data>\n  <xcatdsource>mn</xcatdsource>\n</xcatresponse>\n')
    })
  })

  describe('parsing', () => {
    it('refuses a DOCTYPE with an external entity and reads no file', async () => {
      const doc = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<xcatrequest>\n  <command>&e;</command>\n</xcatrequest>\n'
      const err = await rejection(decodeRequest(doc))
      expect(err).to.be.instanceOf(XmlFormatError)
      expect(String(err)).not.to.include('root:')
    })

    it('refuses an internal entity declaration', async () => {
      const doc = '<!DOCTYPE xcatrequest [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><xcatrequest><command>&b;</command></xcatrequest>'
      expect(await rejection(decodeRequest(doc))).to.be.instanceOf(XmlFormatError)
    })

    it('refuses a lowercase doctype', async () => {
      expect(await rejection(decodeResponse('<!doctype x><xcatresponse><data>x</data></xcatresponse>'))).to.be.instanceOf(XmlFormatError)
    })

    it('expands only the five predefined entities and character references', async () => {
      const tree = await decodeResponse('<xcatresponse><data>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;</data></xcatresponse>')
      expect(tree).to.deep.equal({ data: ['&<>"\'AB'] })
    })

    it('ignores attributes', async () => {
      const tree = await decodeRequest('<xcatrequest id="7">\n  <command verbose="1">nodels</command>\n  <arg a="b"></arg>\n  <env name="x"><v>1</v></env>\n</xcatrequest>')
      expect(tree).to.deep.equal({ command: ['nodels'], arg: [null], env: [{ v: ['1'] }] })
    })

    it('turns empty and whitespace-only elements into null', async () => {
      expect(await decodeResponse('<xcatresponse>\n  <serverdone></serverdone>\n  <data/>\n  <info>   </info>\n</xcatresponse>')).to.deep.equal({ serverdone: [null], data: [null], info: [null] })
    })

    it('keeps the spaces and newlines of text that is not blank', async () => {
      expect(await decodeResponse('<xcatresponse><data> x \n y </data></xcatresponse>')).to.deep.equal({ data: [' x \n y '] })
    })

    it('makes every element an array, nested elements hashes', async () => {
      const tree = await decodeRequest('<xcatrequest><command>c</command><arg>1</arg><arg>2</arg><environment><XCAT_A>1</XCAT_A><XCAT_A>2</XCAT_A></environment></xcatrequest>')
      expect(tree).to.deep.equal({ command: ['c'], arg: ['1', '2'], environment: [{ XCAT_A: ['1', '2'] }] })
    })

    it('accepts an XML declaration', async () => {
      expect(await decodeRequest('<?xml version="1.0" encoding="UTF-8"?>\n<xcatrequest><command>c</command></xcatrequest>')).to.deep.equal({ command: ['c'] })
    })

    const malformed: [string, string][] = [
      ['an unclosed element', '<xcatrequest><command>c</xcatrequest>'],
      ['mismatched tags', '<xcatrequest><command>c</arg></xcatrequest>'],
      ['a bare ampersand', '<xcatrequest><command>a & b</command></xcatrequest>'],
      ['a bare <', '<xcatrequest><command>a < b</command></xcatrequest>'],
      ['text before the root', 'junk<xcatrequest><command>c</command></xcatrequest>'],
      ['an empty document', ''],
      ['plain text', 'GET / HTTP/1.1'],
      ['a truncated document', '<xcatrequest>\n  <command>nodels</comm'],
    ]
    for (const [what, doc] of malformed) {
      it(`throws XmlFormatError for ${what}`, async () => {
        expect(await rejection(decodeRequest(doc))).to.be.instanceOf(XmlFormatError)
      })
    }

    it('throws XmlFormatError for a document with another root', async () => {
      expect(await rejection(decodeRequest('<xcatresponse><data>x</data></xcatresponse>'))).to.be.instanceOf(XmlFormatError)
      expect(await rejection(parseXml('<xcatrequest><command>c</command></xcatrequest>', 'xcatresponse'))).to.be.instanceOf(XmlFormatError)
    })

    it('throws XmlFormatError for a request without a command', async () => {
      expect(await rejection(decodeRequest('<xcatrequest><arg>x</arg></xcatrequest>'))).to.be.instanceOf(XmlFormatError)
      expect(await rejection(decodeRequest('<xcatrequest><command></command></xcatrequest>'))).to.be.instanceOf(XmlFormatError)
    })

    it('round-trips what encodeRequest writes', async () => {
      const request: XcatRequest = { command: ['tabch'], arg: ['key=a&b', 'site.value=<x> "y"'], cwd: ['/tmp'], stdin: ['line1\nline2\n'], environment: [{ XCAT_A: ['1'] }] }
      expect(await decodeRequest(encodeRequest(request))).to.deep.equal(request)
    })
  })

  describe('serverDone', () => {
    it('is a bare serverdone without a transid', () => {
      expect(serverDone()).to.deep.equal({ serverdone: [null] })
      expect(serverDone({ command: ['x'] })).to.deep.equal({ serverdone: [null] })
    })

    it('echoes the request transid', () => {
      expect(serverDone({ command: ['x'], transid: ['42'] })).to.deep.equal({ serverdone: [null], transid: ['42'] })
    })
  })
})
