import { expect } from 'chai'
import type { XcatRequest } from '../../../lib/protocol/types.js'
import { authorize, isTrusted } from '../../../lib/server/policy.js'
import type { Row } from '../../../lib/table/driver.js'

const DEFAULTS: Row[] = [
  { priority: '1', name: 'root', rule: 'allow' },
  { priority: '1.2', name: 'mn1', rule: 'trusted' },
  { priority: '2.3', commands: 'lsxcatd', rule: 'allow' },
  { priority: '4', commands: 'getdestiny', rule: 'allow' },
]

const groups: Record<string, string[]> = { compute: ['cn1', 'cn2', 'cn3'], rack1: ['cn1', 'cn2'], 'cn1,cn2': ['cn1', 'cn2'], 'cn3': ['cn3'] }
const ctx = { expand: async (range: string) => groups[range] ?? range.split(',') }
const req = (command: string, extra: Partial<XcatRequest> = {}): XcatRequest => ({ command: [command], ...extra })

describe('policy', () => {
  it('allows root anything and anonymous peers only the name-less rows', async () => {
    expect(await authorize(DEFAULTS, { name: 'root', host: 'mn' }, req('nodeset'), ctx)).to.equal(true)
    expect(await authorize(DEFAULTS, { name: undefined, host: 'cn1' }, req('getdestiny'), ctx)).to.equal(true)
    expect(await authorize(DEFAULTS, { name: undefined, host: 'cn1' }, req('nodeset'), ctx)).to.equal(false)
    expect(await authorize(DEFAULTS, { name: 'alice', host: 'mn' }, req('tabdump'), ctx)).to.equal(false)
  })

  it('compares priorities as numbers, so 10 comes after 9', async () => {
    const rules: Row[] = [{ priority: '10', name: 'alice', rule: 'allow' }, { priority: '9', name: 'alice', rule: 'deny' }]
    expect(await authorize(rules, { name: 'alice', host: 'mn' }, req('tabdump'), ctx)).to.equal(false)
  })

  it('requires some certificate for name "*" and matches hosts, also through remote_client', async () => {
    const rules: Row[] = [{ priority: '1', name: '*', host: 'ws1', rule: 'allow' }]
    expect(await authorize(rules, { name: 'bob', host: 'ws1' }, req('x'), ctx)).to.equal(true)
    expect(await authorize(rules, { name: undefined, host: 'ws1' }, req('x'), ctx)).to.equal(false)
    expect(await authorize(rules, { name: 'bob', host: 'ws2' }, req('x'), ctx)).to.equal(false)
    expect(await authorize(rules, { name: 'bob', host: 'ws2' }, req('x', { remote_client: ['ws3,ws1'] }), ctx)).to.equal(true)
  })

  it('matches commands as a list and parameters as a regular expression over the arguments', async () => {
    const rules: Row[] = [{ priority: '1', name: 'alice', commands: 'rpower,nodels', parameters: '^(stat|state)$', rule: 'accept' }]
    expect(await authorize(rules, { name: 'alice', host: 'h' }, req('rpower', { arg: ['stat'] }), ctx)).to.equal(true)
    expect(await authorize(rules, { name: 'alice', host: 'h' }, req('rpower', { arg: ['off'] }), ctx)).to.equal(false)
    expect(await authorize(rules, { name: 'alice', host: 'h' }, req('rinv', { arg: ['stat'] }), ctx)).to.equal(false)
  })

  it('lets a noderange rule allow some nodes and later rules decide the rest', async () => {
    const rules: Row[] = [
      { priority: '1', name: 'alice', noderange: 'rack1', rule: 'allow' },
      { priority: '2', name: 'alice', noderange: 'cn3', rule: 'allow' },
    ]
    expect(await authorize(rules, { name: 'alice', host: 'h' }, req('nodels', { noderange: ['compute'] }), ctx)).to.equal(true)
    const denyRest: Row[] = [{ priority: '1', name: 'alice', noderange: 'rack1', rule: 'allow' }, { priority: '2', name: 'alice', rule: 'deny' }]
    expect(await authorize(denyRest, { name: 'alice', host: 'h' }, req('nodels', { noderange: ['compute'] }), ctx)).to.equal(false)
    const denyPart: Row[] = [{ priority: '1', name: 'alice', noderange: 'rack1', rule: 'deny' }, { priority: '2', name: 'alice', rule: 'allow' }]
    expect(await authorize(denyPart, { name: 'alice', host: 'h' }, req('nodels', { noderange: ['compute'] }), ctx)).to.equal(false)
    expect(await authorize(rules, { name: 'alice', host: 'h' }, req('nodels'), ctx)).to.equal(false)
  })

  it('skips rules without a rule value and denies when nothing matches', async () => {
    expect(await authorize([{ priority: '1', name: 'alice' }], { name: 'alice', host: 'h' }, req('x'), ctx)).to.equal(false)
    expect(await authorize([], { name: 'root', host: 'h' }, req('x'), ctx)).to.equal(false)
  })

  it('knows trusted peers by their name', () => {
    expect(isTrusted(DEFAULTS, { name: 'mn1', host: 'mn1' })).to.equal(true)
    expect(isTrusted(DEFAULTS, { name: 'root', host: 'mn1' })).to.equal(false)
  })
})
