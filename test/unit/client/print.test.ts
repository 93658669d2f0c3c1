import { expect } from 'chai'
import { ExitCode, printResponse } from '../../../lib/client/print.js'
import type { XcatResponse } from '../../../lib/protocol/types.js'

const EMPTY = null as unknown as string

interface Printed {
  stdout: string
  stderr: string
  code: number
}

function print(responses: readonly XcatResponse[], env: NodeJS.ProcessEnv = {}): Printed {
  const printed = { stdout: '', stderr: '', code: 0 }
  const exit = new ExitCode()
  const out = { stdout: (t: string) => void (printed.stdout += t), stderr: (t: string) => void (printed.stderr += t) }
  for (const r of responses) printResponse(r, out, exit, env)
  printed.code = exit.value & 0xff
  return printed
}

interface Case {
  readonly title: string
  readonly responses: XcatResponse[]
  readonly env?: Record<string, string>
  readonly stdout?: string
  readonly stderr?: string
  readonly code?: number
}

const CASES: Case[] = [
  {
    title: 'keeps the separator of an empty desc in node data',
    responses: [{ node: [{ name: ['n1'], data: [{ desc: [EMPTY], contents: ['c'] }] }] }],
    stdout: 'n1: : c\n',
  },
  {
    title: 'prints an error as "Error: [xcatdsource]: text" on stderr',
    responses: [{ error: ['Could not find an entry for node n4'], xcatdsource: ['mn01'] }],
    stderr: 'Error: [mn01]: Could not find an entry for node n4\n',
  },
  {
    title: 'prints an error without the source part when there is no xcatdsource',
    responses: [{ error: ['Invalid nodes and/or groups in noderange: n5'], errorcode: ['1'], serverdone: [null] }],
    stderr: 'Error: Invalid nodes and/or groups in noderange: n5\n',
    code: 1,
  },
  {
    title: 'prints every error of a response on its own line',
    responses: [{ error: ['first', 'second'], xcatdsource: ['mn01'] }],
    stderr: 'Error: [mn01]: first\nError: [mn01]: second\n',
  },
  {
    title: 'prints an empty error element as a bare "Error: "',
    responses: [{ error: [EMPTY], xcatdsource: ['mn01'] }],
    stderr: 'Error: \n',
  },
  {
    title: 'prints a warning as "Warning: [xcatdsource]: text" on stderr',
    responses: [{ warning: ['nodetype.os is not set'], xcatdsource: ['mn01'] }],
    stderr: 'Warning: [mn01]: nodetype.os is not set\n',
  },
  {
    title: 'leaves out "Error: " with NoErrorPrefix but keeps the source',
    responses: [{ error: ['plain text'], NoErrorPrefix: [null], xcatdsource: ['mn01'] }],
    stderr: '[mn01]: plain text\n',
  },
  {
    title: 'leaves out "Warning: " with NoWarnPrefix',
    responses: [{ warning: ['plain warning'], NoWarnPrefix: ['1'] }],
    stderr: 'plain warning\n',
  },
  {
    title: 'prints errors before warnings',
    responses: [{ warning: ['w'], error: ['e'] }],
    stderr: 'Error: e\nWarning: w\n',
  },
  {
    title: 'prints a node data line as "name: data"',
    responses: [{ node: [{ name: ['n1'], data: ['on'] }], xcatdsource: ['mn01'] }],
    stdout: 'n1: on\n',
  },
  {
    title: 'prints a node {desc, contents} line as "name: desc: contents"',
    responses: [{ node: [{ name: ['n1'], data: [{ desc: ['nodetype.os'], contents: ['rhels8.6'] }] }], xcatdsource: ['mn01'] }],
    stdout: 'n1: nodetype.os: rhels8.6\n',
  },
  {
    title: 'prints empty contents with the separator and a trailing space',
    responses: [{ node: [{ name: ['n1'], data: [{ desc: ['nodetype.os'], contents: [EMPTY] }] }] }],
    stdout: 'n1: nodetype.os: \n',
  },
  {
    title: 'prints contents without desc as "name: contents"',
    responses: [{ node: [{ name: ['n1'], data: [{ contents: ['x'] }] }] }],
    stdout: 'n1: x\n',
  },
  {
    title: 'prints an empty node data element as "name: "',
    responses: [{ node: [{ name: ['n1'], data: [EMPTY] }] }],
    stdout: 'n1: \n',
  },
  {
    title: 'prints a node entry without data as its name',
    responses: [{ node: [{ name: ['n1'] }, { name: ['n2'] }], xcatdsource: ['mn01'] }],
    stdout: 'n1\nn2\n',
  },
  {
    title: 'prints only the first data item of a node entry',
    responses: [{ node: [{ name: ['n1'], data: ['first', 'second'] }] }],
    stdout: 'n1: first\n',
  },
  {
    title: 'prints a node error as "name: [source]: Error: text" on stderr',
    responses: [{ node: [{ name: ['n1'], error: ['No MAC address available for this node'], errorcode: ['1'] }], xcatdsource: ['mn01'] }],
    stderr: 'n1: [mn01]: Error: No MAC address available for this node\n',
    code: 1,
  },
  {
    title: 'prints a node error without the source part when there is no xcatdsource',
    responses: [{ node: [{ name: ['n1'], error: ['failed'] }] }],
    stderr: 'n1: Error: failed\n',
  },
  {
    title: 'prints only the first error of a node entry',
    responses: [{ node: [{ name: ['n1'], error: ['one', 'two'] }], xcatdsource: ['mn01'] }],
    stderr: 'n1: [mn01]: Error: one\n',
  },
  {
    title: 'prints a node warning on stderr',
    responses: [{ node: [{ name: ['n1'], warning: ['slow'] }], xcatdsource: ['mn01'] }],
    stderr: 'n1: [mn01]: Warning: slow\n',
  },
  {
    title: 'prints a node error and warning on one line',
    responses: [{ node: [{ name: ['n1'], error: ['e'], warning: ['w'] }], xcatdsource: ['mn01'] }],
    stderr: 'n1: [mn01]: Error: e: [mn01]: Warning: w\n',
  },
  {
    title: 'prints a node error with data on one line',
    responses: [{ node: [{ name: ['n1'], error: ['e'], data: ['d'] }], xcatdsource: ['mn01'] }],
    stderr: 'n1: [mn01]: Error: e: d\n',
  },
  {
    title: 'prints a node error without a name as "[source]: Error: text"',
    responses: [{ node: [{ name: [EMPTY], error: ['e'] }], xcatdsource: ['mn01'] }],
    stderr: '[mn01]: Error: e\n',
  },
  {
    title: 'sends the node lines after a node error in the same response to stderr',
    responses: [
      {
        node: [
          { name: ['n1'], data: ['ok'] },
          { name: ['n2'], error: ['bad'], errorcode: ['1'] },
          { name: ['n3'], data: ['ok'] },
          { name: ['n4'] },
        ],
        xcatdsource: ['mn01'],
      },
      { node: [{ name: ['n5'], data: ['ok'] }], xcatdsource: ['mn01'] },
    ],
    stdout: 'n1: ok\nn5: ok\n',
    stderr: 'n2: [mn01]: Error: bad\nn3: ok\nn4\n',
    code: 1,
  },
  {
    title: 'sends the node lines after a node warning in the same response to stderr',
    responses: [{ node: [{ name: ['n1'], warning: ['w'] }, { name: ['n2'], data: ['ok'] }] }],
    stderr: 'n1: Warning: w\nn2: ok\n',
  },
  {
    title: 'keeps top-level data on stdout after a node error',
    responses: [{ node: [{ name: ['n1'], error: ['bad'] }], data: ['summary'] }],
    stdout: 'summary\n',
    stderr: 'n1: Error: bad\n',
  },
  {
    title: 'appends decoded base64_data to a node line',
    responses: [{ node: [{ name: ['n1'], base64_data: [Buffer.from('line with <xml> & ESC').toString('base64')] }] }],
    stdout: 'n1: line with <xml> & ESC\n',
  },
  {
    title: 'prints each top-level data item on its own line without a prefix',
    responses: [{ data: ['#key,value,comments,disable', '"master","10.0.0.1",,'], xcatdsource: ['mn01'] }],
    stdout: '#key,value,comments,disable\n"master","10.0.0.1",,\n',
  },
  {
    title: 'skips data items that are empty, null or "0"',
    responses: [{ data: ['a', '', EMPTY, '0', 'b', '00', ' '], xcatdsource: ['mn01'] }],
    stdout: 'a\nb\n00\n \n',
  },
  {
    title: 'prints a data string that ends with a newline followed by a blank line',
    responses: [{ data: ['Usage: x\n'] }],
    stdout: 'Usage: x\n\n',
  },
  {
    title: 'prints {desc, contents} data items as "desc: contents", "contents" or "desc"',
    responses: [{ data: [{ desc: ['d'], contents: ['c'] }, { contents: ['only contents'] }, { desc: ['only desc'] }, { desc: [''], contents: ['c2'] }, { desc: ['d3'], contents: [EMPTY] }] }],
    stdout: 'd: c\nonly contents\nonly desc\nc2\nd3: \n',
  },
  {
    title: 'skips {desc, contents} data items that print as nothing',
    responses: [{ data: [{ desc: [EMPTY] }, { contents: ['0'] }, {}] }],
    stdout: '',
  },
  {
    title: 'prints info on stdout without a prefix',
    responses: [{ info: ['Processing n1'], xcatdsource: ['mn01'] }],
    stdout: 'Processing n1\n',
  },
  {
    title: 'prints info with the source when the response has a host key',
    responses: [{ info: ['Processing n1'], host: [EMPTY], xcatdsource: ['mn01'] }],
    stdout: '[mn01]: Processing n1\n',
  },
  {
    title: 'prints the source on data lines when the response has a host key',
    responses: [{ data: ['d'], node: [{ name: ['n1'], data: ['x'] }], host: ['1'], xcatdsource: ['mn01'] }],
    stdout: 'n1: [mn01]: x\n[mn01]: d\n',
  },
  {
    title: 'prints sinfo followed by a carriage return',
    responses: [{ sinfo: ['10%', '20%'] }, { sinfo: ['done'] }],
    stdout: '10%\r20%\rdone\r',
  },
  {
    title: 'prints info, sinfo, node lines and then data',
    responses: [{ data: ['data'], node: [{ name: ['n1'], data: ['node'] }], sinfo: ['sinfo'], info: ['info'] }],
    stdout: 'info\nsinfo\rn1: node\ndata\n',
  },
  {
    title: 'with XCATSHOWSVR prefixes info, data and node data lines with the source',
    env: { XCATSHOWSVR: '1' },
    responses: [{ info: ['i'], data: ['d', { desc: ['k'], contents: ['v'] }], node: [{ name: ['n1'], data: [{ desc: ['os'], contents: ['x'] }] }, { name: ['n2'] }], xcatdsource: ['mn01'] }],
    stdout: '[mn01]: i\nn1: [mn01]: os: x\nn2\n[mn01]: d\n[mn01]: k: v\n',
  },
  {
    title: 'with XCATSHOWSVR leaves lines alone when there is no xcatdsource',
    env: { XCATSHOWSVR: '1' },
    responses: [{ info: ['i'], data: ['d'], node: [{ name: ['n1'], data: ['x'] }] }],
    stdout: 'i\nn1: x\nd\n',
  },
  {
    title: 'with XCATSHOWSVR and NoSvrPrefix prints no source on data lines',
    env: { XCATSHOWSVR: '1' },
    responses: [{ data: ['d'], info: ['i'], NoSvrPrefix: [null], xcatdsource: ['mn01'] }],
    stdout: 'i\nd\n',
  },
  {
    title: 'with XCATSHOWSVR prints a node data entry without a name as "[source]: data"',
    env: { XCATSHOWSVR: '1' },
    responses: [{ node: [{ name: [EMPTY], data: ['x'] }, { name: [EMPTY] }], xcatdsource: ['mn01'] }],
    stdout: '[mn01]: x\n',
  },
  {
    title: 'exits with the bitwise OR of top-level errorcodes',
    responses: [{ errorcode: ['1'] }, { errorcode: ['2'], error: ['x'] }, { errorcode: ['4', '1'] }, { errorcode: ['0'] }],
    stderr: 'Error: x\n',
    code: 7,
  },
  {
    title: 'exits with the bitwise OR of node errorcodes and top-level errorcodes',
    responses: [{ node: [{ name: ['n1'], errorcode: ['8'] }, { name: ['n2'], errorcode: ['1', '16'] }] }, { errorcode: [2] }],
    stdout: 'n1\nn2\n',
    code: 27,
  },
  {
    title: 'ORs rather than adds repeated errorcodes',
    responses: [{ errorcode: ['3'] }, { errorcode: ['1'] }, { node: [{ name: ['n1'], errorcode: ['2'] }] }],
    stdout: 'n1\n',
    code: 3,
  },
  {
    title: 'exits 0 for an error without an errorcode, as "Unsupported request"',
    responses: [{ error: ['Unsupported request'], serverdone: [null] }],
    stderr: 'Error: Unsupported request\n',
    code: 0,
  },
  {
    title: 'prints nothing for serverdone alone',
    responses: [{ serverdone: [null] }],
  },
  {
    title: 'ignores keys it does not know',
    responses: [{ destiny: ['boot'], node: [{ name: ['n1'], destiny: ['boot'], kernel: ['k'] }], transid: ['7'] }],
    stdout: 'n1\n',
  },
]

describe('printResponse', () => {
  for (const c of CASES) {
    it(c.title, () => {
      expect(print(c.responses, c.env)).to.deep.equal({ stdout: c.stdout ?? '', stderr: c.stderr ?? '', code: c.code ?? 0 })
    })
  }

  it('prints the recorded nodels transcript as xCAT\'s client does', () => {
    const responses: XcatResponse[] = [
      {
        node: [
          { name: ['compute01'], data: [{ contents: ['rhels8.6'], desc: ['nodetype.os'] }] },
          { name: ['compute02'], data: [{ contents: [EMPTY], desc: ['nodetype.os'] }] },
        ],
        xcatdsource: ['mn01'],
      },
      { node: [{ name: ['compute03'], data: [{ contents: ['sles15.4'], desc: ['nodetype.os'] }] }], xcatdsource: ['mn01'] },
      { data: ['3 nodes listed'], xcatdsource: ['mn01'] },
      { error: ['Could not find an entry for node compute04 in the nodetype table'], errorcode: ['2'], xcatdsource: ['mn01'] },
      { warning: ['nodetype.os is not set for every node'], xcatdsource: ['mn01'] },
    ]
    expect(print(responses)).to.deep.equal({
      stdout: 'compute01: nodetype.os: rhels8.6\ncompute02: nodetype.os: \ncompute03: nodetype.os: sles15.4\n3 nodes listed\n',
      stderr: 'Error: [mn01]: Could not find an entry for node compute04 in the nodetype table\nWarning: [mn01]: nodetype.os is not set for every node\n',
      code: 2,
    })
  })

  it('writes each line with one call per stream in order', () => {
    const calls: string[] = []
    const out = { stdout: (t: string) => void calls.push(`out:${t}`), stderr: (t: string) => void calls.push(`err:${t}`) }
    printResponse({ data: ['d'], error: ['e'], warning: ['w'], info: ['i'], node: [{ name: ['n1'], data: ['x'] }], xcatdsource: ['mn'] }, out, new ExitCode(), {})
    expect(calls).to.deep.equal(['err:Error: [mn]: e\n', 'err:Warning: [mn]: w\n', 'out:i\n', 'out:n1: x\n', 'out:d\n'])
  })
})

describe('ExitCode', () => {
  it('starts at 0', () => {
    expect(new ExitCode().value).to.equal(0)
  })

  it('ORs numbers and numeric strings', () => {
    const exit = new ExitCode()
    exit.add(['1'])
    exit.add([4])
    exit.add(['1', '16'])
    expect(exit.value).to.equal(21)
  })

  it('ignores missing, null and non-numeric codes', () => {
    const exit = new ExitCode()
    exit.add(undefined)
    exit.add([null, undefined, 'abc', ''])
    expect(exit.value).to.equal(0)
  })

  it('keeps codes above 255, which the command reduces modulo 256 as Perl exit does', () => {
    const exit = new ExitCode()
    exit.add(['256'])
    exit.add(['1'])
    expect(exit.value).to.equal(257)
    expect(exit.value & 0xff).to.equal(1)
  })
})
