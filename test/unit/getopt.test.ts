import { expect } from 'chai'
import { getopt, GetoptError } from '../../lib/getopt.js'

const TABDUMP = ['h|?|help', 'v|version', 'n|lines=i', 'd', 'f=s', 'w=s@']

function failure(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(GetoptError)
    return (err as Error).message
  }
  throw new Error('expected a GetoptError')
}

describe('getopt', () => {
  describe('single-letter options (bundling)', () => {
    it('bundles flags: -hV sets both', () => {
      expect(getopt(['-hV'], ['h|help', 'V|verbose'])).to.deep.equal({ opts: { h: true, V: true }, args: [] })
    })

    it('takes the rest of a bundle as the value: -fvalue', () => {
      expect(getopt(['-fvalue', 'x'], ['f=s'])).to.deep.equal({ opts: { f: 'value' }, args: ['x'] })
    })

    it('takes a value after flags in the same bundle: -xfval', () => {
      expect(getopt(['-xfval'], ['x', 'f=s']).opts).to.deep.equal({ x: true, f: 'val' })
    })

    it('takes the next argument as the value: -f value', () => {
      expect(getopt(['-f', 'value'], ['f=s'])).to.deep.equal({ opts: { f: 'value' }, args: [] })
    })

    it('keeps = as part of a bundled value: -f=3', () => {
      expect(getopt(['-f=3'], ['f=s']).opts).to.deep.equal({ f: '=3' })
    })

    it('is case-sensitive for single letters', () => {
      expect(getopt(['-V'], ['v|version', 'V|verbose']).opts).to.deep.equal({ V: true })
      expect(failure(() => getopt(['-H'], ['h', 'v']))).to.equal('Unknown option: H')
    })

    it('accepts -? as an alias', () => {
      expect(getopt(['-?'], TABDUMP).opts).to.deep.equal({ h: true })
    })

    it('treats a lone - as an operand', () => {
      expect(getopt(['-', 'a'], ['h'])).to.deep.equal({ opts: {}, args: ['-', 'a'] })
    })
  })

  describe('long options', () => {
    it('takes --long=value and --long value', () => {
      expect(getopt(['--file=v'], ['file=s']).opts).to.deep.equal({ file: 'v' })
      expect(getopt(['--file', 'w'], ['file=s']).opts).to.deep.equal({ file: 'w' })
    })

    it('keys values by the first name of the spec', () => {
      expect(getopt(['--lines', '5'], TABDUMP).opts).to.deep.equal({ n: 5 })
      expect(getopt(['--help'], ['help|h|?']).opts).to.deep.equal({ help: true })
    })

    it('accepts the long form of a single-letter option: --f=3', () => {
      expect(getopt(['--f=3'], ['f=s']).opts).to.deep.equal({ f: '3' })
    })

    it('ignores case in long names', () => {
      expect(getopt(['--HELP'], TABDUMP).opts).to.deep.equal({ h: true })
      expect(getopt(['--FILE', 'x'], ['file=s']).opts).to.deep.equal({ file: 'x' })
    })

    it('prefers the first spec when names differ only in case: --H', () => {
      expect(getopt(['--H'], ['h|?|help', 'H|with-fieldname']).opts).to.deep.equal({ h: true })
    })

    it('accepts a unique prefix', () => {
      expect(getopt(['--verb'], ['verbose', 'version']).opts).to.deep.equal({ verbose: true })
      expect(getopt(['--VERB'], ['verbose', 'version']).opts).to.deep.equal({ verbose: true })
      expect(getopt(['--hel'], ['help|hello']).opts).to.deep.equal({ help: true })
    })

    it('prefers an exact name over longer names it prefixes', () => {
      expect(getopt(['--h'], ['h|hold', 'help']).opts).to.deep.equal({ h: true })
    })

    it('reports an ambiguous prefix with the sorted candidates, lower-cased', () => {
      expect(failure(() => getopt(['--VER'], ['verbose', 'version']))).to.equal('Option ver is ambiguous (verbose, version)')
      expect(failure(() => getopt(['--no'], ['force!', 'nothing']))).to.equal('Option no is ambiguous (no-force, noforce, nothing)')
    })

    it('names the matched option in its messages, not the abbreviation typed', () => {
      expect(failure(() => getopt(['--FI'], ['file=s']))).to.equal('Option file requires an argument')
      expect(failure(() => getopt(['--HE=x'], ['h|help']))).to.equal('Option help does not take an argument')
    })

    it('reports a value given to a flag', () => {
      expect(failure(() => getopt(['--h=3'], ['h']))).to.equal('Option h does not take an argument')
    })
  })

  describe('values', () => {
    it('takes a following -x as the value of a mandatory option', () => {
      expect(getopt(['-f', '-x'], ['f=s', 'x'])).to.deep.equal({ opts: { f: '-x' }, args: [] })
      expect(getopt(['--file', '-x'], ['file=s', 'x']).opts).to.deep.equal({ file: '-x' })
    })

    it('reports a missing mandatory value', () => {
      expect(failure(() => getopt(['-f'], ['f=s']))).to.equal('Option f requires an argument')
      expect(failure(() => getopt(['--file'], ['file=s']))).to.equal('Option file requires an argument')
      expect(failure(() => getopt(['-w'], ['w=s@']))).to.equal('Option w requires an argument')
    })

    it('converts =i values to numbers, signs included; the last one wins', () => {
      expect(getopt(['-n', '5', '--lines=-3', '-n', '+7'], TABDUMP).opts).to.deep.equal({ n: 7 })
      expect(getopt(['-n', '-5'], ['n=i']).opts).to.deep.equal({ n: -5 })
    })

    it('rejects a non-integer =i value with Perl\'s message', () => {
      expect(failure(() => getopt(['-n', 'abc'], TABDUMP))).to.equal('Value "abc" invalid for option n (number expected)')
      expect(failure(() => getopt(['--lines=abc'], TABDUMP))).to.equal('Value "abc" invalid for option lines (number expected)')
      expect(failure(() => getopt(['--lin=abc'], TABDUMP))).to.equal('Value "abc" invalid for option lines (number expected)')
      expect(failure(() => getopt(['-n', '0x10'], ['n=i']))).to.equal('Value "0x10" invalid for option n (number expected)')
      expect(failure(() => getopt(['-n', ' 5'], ['n=i']))).to.equal('Value " 5" invalid for option n (number expected)')
    })

    it('collects @ options into a list in order', () => {
      expect(getopt(['-w', 'a==1', '-wb==2', '--w=c=~3'], TABDUMP).opts).to.deep.equal({ w: ['a==1', 'b==2', 'c=~3'] })
    })

    it('sets false with --noname and --no-name for ! options', () => {
      expect(getopt(['--noforce'], ['force!']).opts).to.deep.equal({ force: false })
      expect(getopt(['--no-force'], ['force!']).opts).to.deep.equal({ force: false })
      expect(getopt(['--force'], ['force!']).opts).to.deep.equal({ force: true })
      expect(getopt(['--noFORCE'], ['force!']).opts).to.deep.equal({ force: false })
    })

    it('takes an optional :i value only when the next argument is a number', () => {
      expect(getopt(['-n', 'abc'], ['n:i'])).to.deep.equal({ opts: { n: 0 }, args: ['abc'] })
      expect(getopt(['-n', '-5'], ['n:i'])).to.deep.equal({ opts: { n: -5 }, args: [] })
      expect(getopt(['-n5'], ['n:i']).opts).to.deep.equal({ n: 5 })
    })

    it('takes an optional :s value unless the next argument is an option', () => {
      expect(getopt(['-s', '-h'], ['s:s', 'h']).opts).to.deep.equal({ s: '', h: true })
      expect(getopt(['-s', 'foo'], ['s:s']).opts).to.deep.equal({ s: 'foo' })
      expect(getopt(['--s'], ['s:s']).opts).to.deep.equal({ s: '' })
    })
  })

  describe('operands', () => {
    it('permutes: options after operands are still options', () => {
      expect(getopt(['a', '-h', 'b'], ['h', 'f=s'])).to.deep.equal({ opts: { h: true }, args: ['a', 'b'] })
    })

    it('stops at -- and keeps everything after it', () => {
      expect(getopt(['--', '-h'], ['h', 'V'])).to.deep.equal({ opts: {}, args: ['-h'] })
      expect(getopt(['-V', '--', 'a', '--', '-h'], ['h', 'V'])).to.deep.equal({ opts: { V: true }, args: ['a', '--', '-h'] })
    })

    it('with requireOrder stops at the first operand', () => {
      expect(getopt(['-h', 'a', '-V'], ['h', 'V'], { requireOrder: true })).to.deep.equal({ opts: { h: true }, args: ['a', '-V'] })
      expect(getopt(['--lines', '3', 'site', '-w', 'a'], TABDUMP, { requireOrder: true })).to.deep.equal({ opts: { n: 3 }, args: ['site', '-w', 'a'] })
      expect(getopt(['--', 'a'], ['h'], { requireOrder: true })).to.deep.equal({ opts: {}, args: ['a'] })
    })

    it('with requireOrder takes no abbreviations, as posix_default does', () => {
      expect(failure(() => getopt(['--hel'], TABDUMP, { requireOrder: true }))).to.equal('Unknown option: hel')
      expect(getopt(['--HELP'], TABDUMP, { requireOrder: true }).opts).to.deep.equal({ h: true })
    })
  })

  describe('unknown options', () => {
    it('fails with Unknown option: x', () => {
      expect(failure(() => getopt(['-x'], ['h']))).to.equal('Unknown option: x')
      expect(failure(() => getopt(['-hx'], ['h']))).to.equal('Unknown option: x')
      expect(failure(() => getopt(['--xyz'], ['h']))).to.equal('Unknown option: xyz')
    })

    it('lower-cases an unknown long name', () => {
      expect(failure(() => getopt(['--XyZ'], ['h']))).to.equal('Unknown option: xyz')
    })

    it('with passThrough keeps unknown options as operands', () => {
      expect(getopt(['-hx', 'a', '-y', '--zz'], ['h'], { passThrough: true })).to.deep.equal({ opts: { h: true }, args: ['-x', 'a', '-y', '--zz'] })
      expect(getopt(['--zz=3'], ['h'], { passThrough: true }).args).to.deep.equal(['--zz=3'])
    })

    it('with passThrough passes the rest of a bundle from the first unknown letter', () => {
      expect(getopt(['-hxV'], ['h', 'V'], { passThrough: true })).to.deep.equal({ opts: { h: true }, args: ['-xV'] })
      expect(getopt(['-xfh', 'val'], ['h', 'V', 'f=s'], { passThrough: true })).to.deep.equal({ opts: {}, args: ['-xfh', 'val'] })
    })

    it('with passThrough and requireOrder passes unknown options and stops at the first operand', () => {
      expect(getopt(['-x', 'a', '-V'], ['h', 'V'], { passThrough: true, requireOrder: true })).to.deep.equal({ opts: {}, args: ['-x', 'a', '-V'] })
    })
  })

  it('rejects a malformed spec', () => {
    expect(() => getopt([], ['f=x'])).to.throw('bad option spec f=x')
  })
})
