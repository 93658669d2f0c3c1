import { expect } from 'chai'
import type { Row } from '../../lib/table/driver.js'
import { parseHierarchicalAttrs, resolveNodeAttribs, type NodeAttribSources } from '../../lib/table/node-attribs.js'

// Vectors produced by running xCAT's Table.pm getNodeAttribs on a mocked DB (harness ga.pl / ga2.pl and more).
// The rows given here are the enabled ones: the callers drop disabled rows before resolving.

interface Scenario {
  readonly rows: readonly Row[]
  readonly groups: Readonly<Record<string, readonly string[]>>
  readonly hierarchical?: string
  readonly inherit?: boolean
}

function sources(s: Scenario): NodeAttribSources {
  const rowsByKey = new Map<string, Row>()
  for (const row of s.rows) if (row.node && !rowsByKey.has(row.node)) rowsByKey.set(row.node, row)
  return { rowsByKey, groupsOf: (n) => s.groups[n] ?? [], hierarchical: parseHierarchicalAttrs(s.hierarchical), inherit: s.inherit ?? true }
}

type Case = readonly [node: string, cols: readonly string[], expected: Row | undefined]

function check(name: string, scenario: Scenario, cases: readonly Case[]): void {
  describe(name, () => {
    const src = sources(scenario)
    for (const [node, cols, expected] of cases) {
      it(`${node} [${cols.join(' ')}] -> ${JSON.stringify(expected)}`, () => {
        expect(resolveNodeAttribs(node, cols, src)).to.deep.equal(expected)
      })
    }
  })
}

describe('resolveNodeAttribs (xCAT getNodeAttribs)', () => {
  // ga.pl nodehm; n3's own row (mgt=openbmc) and g4's row are disabled, so they are absent here.
  const nodehmGroups = { n1: ['g1', 'g2', 'all'], n2: ['g2', 'g1'], n3: ['g1'], n4: [], n5: ['g3'], n6: ['g1', ' g2'], n7: ['g4', 'g1'] }
  check(
    'group inheritance',
    {
      rows: [
        { node: 'g1', mgt: 'ipmi', power: 'ipmi', cons: null, serialspeed: '19200', getmac: null },
        { node: 'g2', mgt: 'kvm', power: null, cons: 'kvm', serialspeed: '115200', getmac: null },
        { node: 'all', mgt: null, power: null, cons: null, serialspeed: null, getmac: 'blade' },
        { node: 'n1', mgt: '', power: null, cons: null, serialspeed: '9600', getmac: null },
      ],
      groups: nodehmGroups,
    },
    [
      ['n1', ['mgt', 'power', 'cons', 'serialspeed', 'getmac'], { cons: 'kvm', getmac: 'blade', mgt: 'ipmi', power: 'ipmi', serialspeed: '9600' }],
      ['n2', ['mgt', 'power', 'cons', 'serialspeed'], { cons: 'kvm', mgt: 'kvm', power: 'ipmi', serialspeed: '115200' }],
      ['n3', ['mgt'], { mgt: 'ipmi' }],
      ['n4', ['mgt'], undefined],
      ['n5', ['mgt'], undefined],
      ['n6', ['mgt', 'cons'], { mgt: 'ipmi' }],
      ['n7', ['mgt'], { mgt: 'ipmi' }],
      ['nosuch', ['mgt'], undefined],
    ],
  )

  check(
    'regex values are translated for the node; an empty translation drops the attribute',
    {
      rows: [
        { node: 'g1', bmc: '|node(\\d+)|bmc($1)|', username: '/n1//' },
        { node: 'g2', bmc: '/\\z/-bmc/', username: null },
      ],
      groups: { n1: ['g1', 'g2', 'all'], n2: ['g2', 'g1'] },
    },
    [
      ['n1', ['bmc', 'username'], { bmc: 'n1' }],
      ['n2', ['bmc', 'username'], { bmc: 'n2-bmc', username: 'n2' }],
      ['n1', ['username'], {}],
    ],
  )

  check(
    'regex values on the node row and on a group row',
    {
      rows: [
        { node: 'g1', ip: '|\\D+(\\d+)|10.0.0.($1+0)|' },
        { node: 'n2', ip: '|\\D+(\\d+)|10.0.1.($1+0)|' },
      ],
      groups: { n1: ['g1', 'g2', 'all'], n2: ['g2', 'g1'] },
    },
    [
      ['n1', ['ip'], { ip: '10.0.0.1' }],
      ['n2', ['ip'], { ip: '10.0.1.2' }],
    ],
  )

  check(
    'the node column and per-attribute resolution (ga2.pl and more)',
    {
      rows: [
        { node: 'n1', mgt: 'ipmi', cons: null, power: null },
        { node: 'g1', mgt: null, cons: 'ipmi', power: null },
        { node: 'g2', mgt: 'kvm', cons: 'kvm', power: 'kvm' },
        { node: 'n3', mgt: '', cons: '', power: null },
        { node: 'n4', mgt: '0', cons: null, power: null },
        { node: 'g3', mgt: '', cons: null, power: '' },
      ],
      groups: { n1: ['g1', 'g2'], n2: ['g2', 'g1'], n3: ['g1'], n4: ['g3', 'g1'] },
    },
    [
      ['n1', ['node', 'mgt', 'cons', 'power'], { cons: 'ipmi', mgt: 'ipmi', node: 'n1', power: 'kvm' }],
      ['n1', ['mgt'], { mgt: 'ipmi' }],
      ['n2', ['node', 'mgt'], { mgt: 'kvm', node: 'n2' }],
      ['n2', ['node'], { node: 'n2' }],
      ['n1', ['node', 'power'], { node: 'n1', power: 'kvm' }],
      ['n3', ['mgt', 'cons'], { cons: 'ipmi' }],
      // n3 has a row and a group row, but nothing has a power value.
      ['n3', ['power'], undefined],
      ['n4', ['mgt', 'power'], { mgt: '0' }],
    ],
  )

  const postscripts: readonly Row[] = [
    { node: 'xcatdefaults', postscripts: 'syslog,remoteshell', postbootscripts: 'otherpkgs' },
    { node: 'g1', postscripts: 'a,b', postbootscripts: 'p1' },
    { node: 'g2', postscripts: 'b,c', postbootscripts: null },
    { node: 'n1', postscripts: 'z,a', postbootscripts: null },
    { node: 'n5', postscripts: '', postbootscripts: null },
    { node: 'n6', postscripts: 'q', postbootscripts: null },
  ]
  const psGroups = { n1: ['g1', 'g2', 'all'], n2: ['g2', 'g1'], n3: ['g1'], n4: [], n5: ['g3'], n6: ['g1', ' g2'] }
  check('hierarchical attributes', { rows: postscripts, groups: psGroups, hierarchical: 'postscripts, postbootscripts:|' }, [
    ['n1', ['postscripts', 'postbootscripts'], { postbootscripts: 'p1', postscripts: 'z,a,b,c' }],
    ['n2', ['postscripts', 'postbootscripts'], { postbootscripts: 'p1', postscripts: 'b,c,a' }],
    ['n5', ['postscripts'], undefined],
    ['n6', ['postscripts'], { postscripts: 'q,a,b' }],
    ['n3', ['postscripts', 'postbootscripts'], { postbootscripts: 'p1', postscripts: 'a,b' }],
  ])
  check('without hierarchicalattrs the first value wins', { rows: postscripts, groups: psGroups }, [
    ['n1', ['postscripts', 'postbootscripts'], { postbootscripts: 'p1', postscripts: 'z,a' }],
    ['n2', ['postscripts'], { postscripts: 'b,c' }],
  ])

  const dedup: readonly Row[] = [
    { node: 'g1', postscripts: 'a,,b,a' },
    { node: 'g2', postscripts: 'b|c' },
    { node: 'n1', postscripts: 'a,' },
    { node: 'n2', postscripts: 'x|y|x' },
    { node: 'n3', postscripts: '' },
  ]
  const dedupGroups = { n1: ['g1', 'g2'], n2: ['g2', 'g1'], n3: ['g1'] }
  check('hierarchical dedup with the default delimiter', { rows: dedup, groups: dedupGroups, hierarchical: 'postscripts' }, [
    ['n1', ['postscripts'], { postscripts: 'a,,b,b|c' }],
    ['n2', ['postscripts'], { postscripts: 'x|y|x,b|c,a,,b' }],
    ['n3', ['postscripts'], { postscripts: 'a,,b' }],
  ])
  check('hierarchical dedup with a | delimiter', { rows: dedup, groups: dedupGroups, hierarchical: 'postscripts:|' }, [
    ['n1', ['postscripts'], { postscripts: 'a,|a,,b,a|b|c' }],
    ['n2', ['postscripts'], { postscripts: 'x|y|b|c|a,,b,a' }],
    ['n3', ['postscripts'], { postscripts: 'a,,b,a' }],
  ])

  check(
    'hierarchical values: trailing empty items, empty joins, regex values',
    {
      rows: [
        { node: 'g1', postscripts: ',,', postbootscripts: null },
        { node: 'g2', postscripts: 'c,d', postbootscripts: null },
        { node: 'g9', postscripts: null, postbootscripts: 'z' },
        { node: 'n7', postscripts: 'x,y,x,', postbootscripts: null },
        { node: 'n8', postscripts: 'x,y,x', postbootscripts: null },
        { node: 'n9', postscripts: 'd,c', postbootscripts: null },
        { node: 'n11', postscripts: '/n11//', postbootscripts: null },
      ],
      groups: { n7: ['g9'], n8: [], n9: ['g1', 'g2'], n10: ['g9', 'g1'], n11: ['g1'] },
      hierarchical: 'postscripts',
    },
    [
      ['n7', ['postscripts'], { postscripts: 'x,y' }],
      // xCAT returns 'x,y,x,+=NEXTRECORD' for a node without groups (a bug); we dedup as for any other node.
      ['n8', ['postscripts'], { postscripts: 'x,y' }],
      ['n9', ['postscripts'], { postscripts: 'd,c,' }],
      ['n10', ['postscripts'], {}],
      ['n11', ['postscripts'], {}],
      ['n10', ['postscripts', 'postbootscripts'], { postbootscripts: 'z' }],
    ],
  )

  check(
    'regex translation happens on the joined hierarchical value',
    {
      rows: [
        { node: 'g1', postscripts: '|\\D+(\\d+)|s($1)|' },
        { node: 'g2', postscripts: 'x' },
      ],
      groups: { n1: ['g1', 'g2'], n2: ['g1'] },
      hierarchical: 'postscripts',
    },
    [
      ['n1', ['postscripts'], { postscripts: '|\\D+(\\d+)|s($1)|,x' }],
      ['n2', ['postscripts'], { postscripts: 's2' }],
    ],
  )

  check(
    'nodelist never inherits nor concatenates',
    {
      rows: [
        { node: 'n1', groups: 'g1,g2', status: null, comments: 'a,a' },
        { node: 'g1', groups: null, status: 'booted', comments: 'b' },
      ],
      groups: { n1: ['g1', 'g2'] },
      hierarchical: 'comments',
      inherit: false,
    },
    [
      ['n1', ['groups', 'status', 'comments'], { groups: 'g1,g2', comments: 'a,a' }],
      ['n1', ['status'], undefined],
      ['g1', ['status'], { status: 'booted' }],
    ],
  )
})

describe('parseHierarchicalAttrs (site.hierarchicalattrs)', () => {
  const VECTORS: readonly (readonly [value: string | null | undefined, expected: Record<string, string>])[] = [
    ['postscripts, postbootscripts:|', { postscripts: ',', postbootscripts: '|' }],
    ['a:0,0, b : ; ,c:,:x,d:e:f', { a: ',', b: ';', c: ',', d: 'e:f' }],
    [' x\t:\t- ', { x: '-' }],
    ['', {}],
    [null, {}],
    [undefined, {}],
    [',,', {}],
  ]
  for (const [value, expected] of VECTORS) {
    it(`${JSON.stringify(value)} -> ${JSON.stringify(expected)}`, () => {
      expect(Object.fromEntries(parseHierarchicalAttrs(value))).to.deep.equal(expected)
    })
  }
})
