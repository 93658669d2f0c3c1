import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { shellCommand, shellQuote } from '../../../lib/exec/quote.js'

const run = promisify(execFile)

describe('shell quoting for remote commands', () => {
  const nasty = ['plain', 'with space', "it's", '$(reboot)', '`id`', 'a;b', 'new\nline', '*', '', '"double"', '\\back', '-n', '--x=y z']

  it('gives every argument back unchanged after a real shell parses the command line', async () => {
    const { stdout } = await run('sh', ['-c', `printf '%s\\0' ${shellCommand(nasty)}`])
    expect(stdout.split('\0').slice(0, -1)).to.deep.equal(nasty)
  })

  it('leaves simple words alone and quotes the rest', () => {
    expect(shellQuote('/etc/fstab')).to.equal('/etc/fstab')
    expect(shellQuote('a b')).to.equal("'a b'")
    expect(shellQuote("it's")).to.equal("'it'\\''s'")
    expect(() => shellCommand([])).to.throw()
  })
})
