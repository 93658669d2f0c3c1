import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { DocumentFramer, FrameError, MAX_REQUEST_BYTES } from '../../../lib/protocol/framer.js'

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'xml')

const TRANSCRIPTS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.xml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(FIXTURES, file), 'utf8')
    const root = text.startsWith('<xcatrequest>') ? 'xcatrequest' : 'xcatresponse'
    const docs = text.match(new RegExp(`<${root}>[\\s\\S]*?</${root}>`, 'g')) ?? []
    return { file, text, root, docs }
  })

function frame(root: string, chunks: readonly string[], maxBytes?: number): string[] {
  const framer = new DocumentFramer(root, maxBytes)
  return chunks.flatMap((c) => framer.push(c))
}

function frameError(run: () => unknown): unknown {
  try {
    run()
  } catch (err) {
    return err
  }
  throw new Error('expected a FrameError')
}

describe('DocumentFramer', () => {
  it('has every fixture transcript to work on', () => {
    expect(TRANSCRIPTS.map((t) => t.file)).to.include.members(['nodeset-request.xml', 'getdestiny-request.xml', 'nodels-responses.xml', 'permission-denied.xml', 'escaped-responses.xml'])
    for (const t of TRANSCRIPTS) expect(t.docs, t.file).to.have.length.greaterThan(0)
  })

  for (const { file, text, root, docs } of TRANSCRIPTS) {
    describe(file, () => {
      it('yields the documents of the whole transcript in one chunk', () => {
        expect(frame(root, [text])).to.deep.equal(docs)
      })

      it('yields the same documents when split into two chunks at every offset', () => {
        for (let at = 0; at <= text.length; at++) {
          expect(frame(root, [text.slice(0, at), text.slice(at)]), `split at ${at}`).to.deep.equal(docs)
        }
      })

      it('yields the same documents fed one character at a time', () => {
        expect(frame(root, [...text])).to.deep.equal(docs)
      })

      it('yields the same documents split at 1, 2 and length-1', () => {
        for (const at of [1, 2, text.length - 1]) {
          expect(frame(root, [text.slice(0, at), text.slice(at)]), `split at ${at}`).to.deep.equal(docs)
        }
        expect(frame(root, [text.slice(0, 1), text.slice(1, 2), text.slice(2, -1), text.slice(-1)])).to.deep.equal(docs)
      })

      it('yields the same documents in chunks of 3, 7, 64 and 4096 characters', () => {
        for (const size of [3, 7, 64, 4096]) {
          const chunks: string[] = []
          for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
          expect(frame(root, chunks), `chunks of ${size}`).to.deep.equal(docs)
        }
      })

      it('yields each document as soon as its end tag has arrived', () => {
        const framer = new DocumentFramer(root)
        const seen: string[] = []
        for (let i = 0; i < text.length; i++) {
          seen.push(...framer.push(text.charAt(i)))
          const ended = text.slice(0, i + 1).split(`</${root}>`).length - 1
          expect(seen, `after ${i + 1} characters`).to.deep.equal(docs.slice(0, ended))
        }
      })

      it('yields the documents of the transcript repeated three times, in order', () => {
        expect(frame(root, [text, text.slice(0, 10), text.slice(10) + text])).to.deep.equal([...docs, ...docs, ...docs])
      })
    })
  }

  it('holds nothing once every document has been yielded but the trailing newline', () => {
    const framer = new DocumentFramer('xcatresponse')
    const text = TRANSCRIPTS.find((t) => t.file === 'nodels-responses.xml')!.text
    framer.push(text)
    expect(framer.pending).to.equal(1)
  })

  it('skips text between documents', () => {
    const a = '<xcatresponse>\n  <data>a</data>\n</xcatresponse>'
    const b = '<xcatresponse>\n  <serverdone></serverdone>\n</xcatresponse>'
    expect(frame('xcatresponse', [`\n\n${a}\r\n  \n`, `junk ${b}\n`])).to.deep.equal([a, b])
    expect(frame('xcatresponse', [`${a}\nsome text that is longer than fifteen characters\n${b}\n`])).to.deep.equal([a, b])
    expect(frame('xcatresponse', [...`  ${a}\r\n${b}\n`])).to.deep.equal([a, b])
  })

  it('skips text before the first document when it is short', () => {
    expect(frame('xcatrequest', ['\n \r\n<xcatrequest><command>c</command></xcatrequest>'])).to.deep.equal(['<xcatrequest><command>c</command></xcatrequest>'])
  })

  it('throws FrameError for an HTTP request', () => {
    const err = frameError(() => frame('xcatrequest', ['GET / HTTP/1.1\r\nHost: mn\r\nUser-Agent: curl/8\r\n\r\n']))
    expect(err).to.be.instanceOf(FrameError)
  })

  it('throws FrameError for an HTTP request fed one character at a time, by its 16th character', () => {
    const framer = new DocumentFramer('xcatrequest')
    const text = 'GET / HTTP/1.1\r\nHost: mn\r\n\r\n'
    let thrown = -1
    for (let i = 0; i < text.length && thrown < 0; i++) {
      try {
        framer.push(text.charAt(i))
      } catch (err) {
        expect(err).to.be.instanceOf(FrameError)
        thrown = i + 1
      }
    }
    expect(thrown).to.equal(16)
  })

  it('accepts 15 characters without an opening tag, as xcatd does', () => {
    const framer = new DocumentFramer('xcatrequest')
    expect(framer.push('x'.repeat(15))).to.deep.equal([])
    expect(() => framer.push('x')).to.throw(FrameError)
  })

  it('throws FrameError for a root tag with attributes, which xcatd does not recognise', () => {
    expect(frameError(() => frame('xcatrequest', ['<xcatrequest version="2">\n  <command>c</command>\n</xcatrequest>\n']))).to.be.instanceOf(FrameError)
  })

  it('throws FrameError for an end tag that has no opening tag', () => {
    expect(frameError(() => frame('xcatrequest', ['<xcatrequest><command>a</command></xcatrequest>\n</xcatrequest>']))).to.be.instanceOf(FrameError)
  })

  it('throws FrameError for a document larger than its limit', () => {
    const doc = `<xcatrequest><command>c</command><arg>${'x'.repeat(200)}</arg></xcatrequest>`
    expect(frameError(() => frame('xcatrequest', [...doc], 100))).to.be.instanceOf(FrameError)
    expect(frameError(() => frame('xcatrequest', [doc.slice(0, 150), doc.slice(150)], 100))).to.be.instanceOf(FrameError)
    expect(frame('xcatrequest', [doc], doc.length)).to.deep.equal([doc])
  })

  it('throws FrameError for an unterminated document past the default limit', () => {
    const framer = new DocumentFramer('xcatrequest')
    framer.push('<xcatrequest>\n  <stdin>')
    const block = 'y'.repeat(1024 * 1024)
    let err: unknown
    for (let i = 0; i <= MAX_REQUEST_BYTES / block.length && err === undefined; i++) {
      try {
        framer.push(block)
      } catch (e) {
        err = e
      }
    }
    expect(err).to.be.instanceOf(FrameError)
  })

  it('limits each document, not the whole stream', () => {
    const doc = '<xcatrequest><command>c</command></xcatrequest>'
    const framer = new DocumentFramer('xcatrequest', doc.length + 1)
    for (let i = 0; i < 100; i++) expect(framer.push(`${doc}\n`)).to.deep.equal([doc])
  })

  it('accepts whitespace between responses however the stream is cut', () => {
    const a = '<xcatresponse>\n  <data>a</data>\n</xcatresponse>'
    const b = '<xcatresponse>\n  <serverdone></serverdone>\n</xcatresponse>'
    const framer = new DocumentFramer('xcatresponse')
    const docs = [...`${a}\n\n\n\n\n${b}\n`].flatMap((c) => framer.push(c))
    expect(docs).to.deep.equal([a, b])
  })

  it('refuses an oversized document even when it arrives in one chunk', () => {
    const framer = new DocumentFramer('xcatrequest', 100)
    expect(() => framer.push(`<xcatrequest><command>c</command><arg>${'x'.repeat(200)}</arg></xcatrequest>`)).to.throw(FrameError)
  })
})
