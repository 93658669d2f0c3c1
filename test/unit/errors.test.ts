import { expect } from 'chai'
import { asXcatError, XCAT_ERRORS, XcatError, xcatError, type XcatErrorCode } from '../../lib/errors.js'

const CODES = Object.keys(XCAT_ERRORS) as XcatErrorCode[]

describe('errors', () => {
  it('names every code XCAT_ERR_*', () => {
    expect(CODES).to.have.length.greaterThan(0)
    for (const code of CODES) expect(code).to.match(/^XCAT_ERR_[A-Z_]+$/)
  })

  for (const code of CODES) {
    it(`${code} builds an XcatError with that code and errorcode 1`, () => {
      const build = xcatError as (c: XcatErrorCode, ...args: string[]) => XcatError
      const err = build(code, 'first', 'second')
      expect(err).to.be.instanceOf(XcatError)
      expect(err).to.be.instanceOf(Error)
      expect(err.code).to.equal(code)
      expect(err.errorcode).to.equal(1)
      expect(err.name).to.equal('XcatError')
      expect(err.message).to.equal((XCAT_ERRORS[code] as (...a: string[]) => string)('first', 'second'))
      expect(err.cause).to.equal(undefined)
    })
  }

  it('builds xCAT\'s messages', () => {
    expect(xcatError('XCAT_ERR_NO_TABLE', 'nosuch').message).to.equal('No such table: nosuch')
    expect(xcatError('XCAT_ERR_NO_COLUMN', 'site', 'foo').message).to.equal('No column "foo" in table "site"')
    expect(xcatError('XCAT_ERR_BAD_NODERANGE', 'n5,n6').message).to.equal('Invalid nodes and/or groups in noderange: n5,n6')
  })

  it('XcatError takes another errorcode and a cause', () => {
    const cause = new Error('inner')
    const err = new XcatError('XCAT_ERR_BAD_CSV', 'bad line', { errorcode: 4, cause })
    expect(err.errorcode).to.equal(4)
    expect(err.cause).to.equal(cause)
  })

  describe('asXcatError', () => {
    it('wraps an Error with its message and keeps it as the cause', () => {
      const cause = Object.assign(new Error('UNIQUE constraint failed: site.key'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
      const err = asXcatError(cause, 'XCAT_ERR_DB_QUERY')
      expect(err).to.be.instanceOf(XcatError)
      expect(err.code).to.equal('XCAT_ERR_DB_QUERY')
      expect(err.errorcode).to.equal(1)
      expect(err.message).to.equal('UNIQUE constraint failed: site.key')
      expect(err.cause).to.equal(cause)
    })

    it('wraps a thrown non-Error as its string and keeps it as the cause', () => {
      const err = asXcatError('plain text', 'XCAT_ERR_PLUGIN')
      expect(err.message).to.equal('plain text')
      expect(err.cause).to.equal('plain text')
    })

    it('returns an XcatError unchanged, whatever code is asked for', () => {
      const original = xcatError('XCAT_ERR_NO_TABLE', 'x')
      expect(asXcatError(original, 'XCAT_ERR_DB_QUERY')).to.equal(original)
    })
  })
})
