import { expect } from 'chai'
import { ExitCode, printResponse, type Output } from '../../../lib/client/print.js'
import { progressResponse, progressText } from '../../../lib/sysclone/progress.js'

const sample = { bytes: 3 * 1024 ** 3, percent: 45, rate: 110 * 1024 ** 2, etaSeconds: 75, files: 12345 }

function capture(isTTY: boolean): { out: Output; text: () => string } {
  let text = ''
  return { out: { stdout: (t) => void (text += t), stderr: (t) => void (text += t), isTTY }, text: () => text }
}

describe('capture progress on the client', () => {
  it('says bytes, files, rate and time left in one line', () => {
    expect(progressText(sample)).to.equal('45% 3.0 GiB, 12345 files, 110.0 MiB/s, 0:01:15 left')
  })

  it('draws a bar over itself on a terminal and ends it before the next message', () => {
    const { out, text } = capture(true)
    const exit = new ExitCode()
    printResponse(progressResponse(sample), out, exit, {})
    printResponse(progressResponse({ ...sample, percent: 100 }), out, exit, {})
    printResponse({ data: ['done'] }, out, exit, {})
    expect(text()).to.equal(`\r[##############----------------] 45% 3.0 GiB, 12345 files, 110.0 MiB/s, 0:01:15 left\x1b[K\r[##############################] 100% 3.0 GiB, 12345 files, 110.0 MiB/s, 0:01:15 left\x1b[K\ndone\n`)
  })

  it('prints plain lines when stdout is not a terminal', () => {
    const { out, text } = capture(false)
    printResponse(progressResponse(sample), out, new ExitCode(), {})
    expect(text()).to.equal('45% 3.0 GiB, 12345 files, 110.0 MiB/s, 0:01:15 left\n')
  })

  it('reaches xCAT\'s client as sinfo, printed with a carriage return', () => {
    const { out, text } = capture(true)
    printResponse({ sinfo: progressResponse(sample).sinfo ?? [] }, out, new ExitCode(), {})
    expect(text()).to.equal('45% 3.0 GiB, 12345 files, 110.0 MiB/s, 0:01:15 left\r')
  })
})
