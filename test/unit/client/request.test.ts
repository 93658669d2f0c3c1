import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { buildRequest, xcatEnvironment } from '../../../lib/client/request.js'
import { encodeRequest } from '../../../lib/protocol/codec.js'

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'xml')
const ROOT = { cwd: '/root', env: { HOME: '/root', PATH: '/usr/bin' } }

describe('buildRequest', () => {
  describe("'noderange' (xcatclient)", () => {
    it('makes every ^file of a comma list absolute', () => {
      const req = buildRequest('nodels', ['n1,^nodes.txt,^/abs/list'], 'noderange', { cwd: '/root', env: {} })
      expect(req.noderange).to.deep.equal(['n1,^/root/nodes.txt,^/abs/list'])
    })

    it('sends the command, clienttype cli, cwd and the first argument as the noderange', () => {
      expect(buildRequest('nodels', ['compute01-compute03'], 'noderange', ROOT)).to.deep.equal({ command: ['nodels'], clienttype: ['cli'], cwd: ['/root'], noderange: ['compute01-compute03'] })
    })

    it('sends the arguments after the noderange as arg, in order', () => {
      expect(buildRequest('nodeset', ['compute01-compute03', 'osimage=img1', '-a', 'x'], 'noderange', ROOT)).to.deep.include({ noderange: ['compute01-compute03'], arg: ['osimage=img1', '-a', 'x'] })
    })

    it('sends leading dash arguments as arg before the ones after the noderange', () => {
      expect(buildRequest('nodels', ['-S', '--verbose', 'n1,n2', 'nodetype.os', '-w', 'x'], 'noderange', ROOT)).to.deep.include({ noderange: ['n1,n2'], arg: ['-S', '--verbose', 'nodetype.os', '-w', 'x'] })
    })

    it('sends only arg when every argument starts with a dash', () => {
      const req = buildRequest('nodels', ['-h', '-v'], 'noderange', ROOT)
      expect(req.arg).to.deep.equal(['-h', '-v'])
      expect(req.noderange === undefined || req.noderange[0] === '').to.equal(true)
    })

    it('takes an empty argument as the noderange, as it does not start with a dash', () => {
      expect(buildRequest('nodels', ['', 'x'], 'noderange', ROOT)).to.deep.include({ noderange: [''], arg: ['x'] })
    })

    it('sends no arg element when there are no arguments besides the noderange', () => {
      expect(buildRequest('nodels', ['n1'], 'noderange', ROOT)).not.to.have.property('arg')
    })

    it('makes a ^relative noderange file absolute against the cwd', () => {
      expect(buildRequest('nodels', ['^nodes.txt'], 'noderange', ROOT).noderange).to.deep.equal(['^/root/nodes.txt'])
      expect(buildRequest('nodels', ['^lists/rack1'], 'noderange', { ...ROOT, cwd: '/home/alice' }).noderange).to.deep.equal(['^/home/alice/lists/rack1'])
      expect(buildRequest('nodels', ['^../etc/nodes'], 'noderange', ROOT).noderange).to.deep.equal(['^/etc/nodes'])
    })

    it('leaves an absolute ^/file noderange alone', () => {
      expect(buildRequest('nodels', ['^/tmp/nodes.txt'], 'noderange', ROOT).noderange).to.deep.equal(['^/tmp/nodes.txt'])
    })

    it('leaves a ^file argument after the noderange alone', () => {
      expect(buildRequest('nodech', ['n1', '^nodes.txt'], 'noderange', ROOT).arg).to.deep.equal(['^nodes.txt'])
    })

    it('sends every XCAT_ variable as an environment hash', () => {
      const req = buildRequest('nodeset', ['n1', 'boot'], 'noderange', { cwd: '/root', env: { XCAT_FOO: 'bar', XCAT_NODE_PREFIX: 'cn', XCATHOST: 'mn:3001', XCATBYPASS: '1', xcat_lower: 'x', MY_XCAT_X: 'y', HOME: '/root' } })
      expect(req.environment).to.deep.equal([{ XCAT_FOO: ['bar'], XCAT_NODE_PREFIX: ['cn'] }])
    })

    it('sends an empty XCAT_ variable', () => {
      expect(buildRequest('nodels', ['n1'], 'noderange', { cwd: '/', env: { XCAT_EMPTY: '' } }).environment).to.deep.equal([{ XCAT_EMPTY: [''] }])
    })

    it('sends no environment element without XCAT_ variables', () => {
      expect(buildRequest('nodels', ['n1'], 'noderange', ROOT)).not.to.have.property('environment')
    })

    it('sends stdin when there is some', () => {
      expect(buildRequest('nodech', ['n1', 'groups=all'], 'noderange', { ...ROOT, stdin: 'line1\nline2\n' }).stdin).to.deep.equal(['line1\nline2\n'])
      expect(buildRequest('nodech', ['n1'], 'noderange', { ...ROOT, stdin: '' }).stdin).to.deep.equal([''])
    })

    it('sends no stdin element without stdin', () => {
      expect(buildRequest('nodels', ['n1'], 'noderange', ROOT)).not.to.have.property('stdin')
    })

    it('builds the request xcatclient writes for nodeset compute01-compute03 osimage=img1', () => {
      const req = buildRequest('nodeset', ['compute01-compute03', 'osimage=img1'], 'noderange', { cwd: '/root', env: { HOME: '/root', XCAT_FOO: 'bar', XCATHOST: 'localhost:3001' } })
      expect(encodeRequest(req)).to.equal(readFileSync(join(FIXTURES, 'nodeset-request.xml'), 'utf8'))
    })
  })

  describe("'nnr' (xcatclientnnr)", () => {
    it('sends every argument as arg and no noderange', () => {
      expect(buildRequest('tabdump', ['-w', 'key==master', 'site'], 'nnr', ROOT)).to.deep.equal({ command: ['tabdump'], clienttype: ['cli'], cwd: ['/root'], arg: ['-w', 'key==master', 'site'] })
    })

    it('does not take the first plain argument as a noderange', () => {
      expect(buildRequest('nodeadd', ['n1-n4', 'groups=all'], 'nnr', ROOT)).to.deep.include({ arg: ['n1-n4', 'groups=all'] }).and.not.to.have.property('noderange')
    })

    it('leaves ^relative arguments alone', () => {
      expect(buildRequest('nodeadd', ['^nodes.txt', 'groups=all'], 'nnr', ROOT).arg).to.deep.equal(['^nodes.txt', 'groups=all'])
    })

    it('sends no arg element without arguments', () => {
      expect(buildRequest('tabdump', [], 'nnr', ROOT)).to.deep.equal({ command: ['tabdump'], clienttype: ['cli'], cwd: ['/root'] })
    })

    it('sends the XCAT_ environment and stdin', () => {
      expect(buildRequest('tabch', ['key=x', 'site.value=y'], 'nnr', { cwd: '/tmp', env: { XCAT_A: '1' }, stdin: 'in' })).to.deep.equal({
        command: ['tabch'],
        clienttype: ['cli'],
        cwd: ['/tmp'],
        arg: ['key=x', 'site.value=y'],
        environment: [{ XCAT_A: ['1'] }],
        stdin: ['in'],
      })
    })
  })

  describe("'dbcmd' (xcatDBcmds)", () => {
    it('sends every argument as arg and no noderange', () => {
      expect(buildRequest('lsdef', ['-t', 'node', '-o', 'n1,n2', '-i', 'os'], 'dbcmd', ROOT)).to.deep.equal({ command: ['lsdef'], clienttype: ['cli'], cwd: ['/root'], arg: ['-t', 'node', '-o', 'n1,n2', '-i', 'os'] })
    })

    it('makes ^relative operands absolute, also inside a comma list', () => {
      expect(buildRequest('lsdef', ['^nodes.txt'], 'dbcmd', ROOT).arg).to.deep.equal(['^/root/nodes.txt'])
      expect(buildRequest('chdef', ['n1,^rack1.txt,^/abs/list', 'groups=all'], 'dbcmd', ROOT).arg).to.deep.equal(['n1,^/root/rack1.txt,^/abs/list', 'groups=all'])
    })

    it('leaves operands with = and options alone', () => {
      expect(buildRequest('mkdef', ['-t', 'node', '-o', 'n1', 'groups=^x', '-^y'], 'dbcmd', ROOT).arg).to.deep.equal(['-t', 'node', '-o', 'n1', 'groups=^x', '-^y'])
    })

    it('sends no environment element, even with XCAT_ variables', () => {
      expect(buildRequest('lsdef', ['n1'], 'dbcmd', { cwd: '/root', env: { XCAT_FOO: 'bar' } })).not.to.have.property('environment')
    })

    it('sends stdin', () => {
      expect(buildRequest('mkdef', ['-z'], 'dbcmd', { ...ROOT, stdin: 'n1:\n  objtype=node\n' }).stdin).to.deep.equal(['n1:\n  objtype=node\n'])
    })
  })
})

describe('xcatEnvironment', () => {
  it('keeps exactly the variables whose names start with XCAT_', () => {
    expect(xcatEnvironment({ XCAT_A: '1', XCAT_: '2', XCATB: '3', A_XCAT_C: '4', xcat_d: '5', XCAT_E: undefined })).to.deep.equal({ XCAT_A: ['1'], XCAT_: ['2'] })
  })
})
