import { expect } from 'chai'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expandNoderange, perlRange, type NoderangeOptions } from '../../lib/noderange.js'
import { SqliteDriver } from '../../lib/table/sqlite/sqlite-driver.js'
import { Tables } from '../../lib/table/tables.js'

// Vectors produced by running xCAT's NodeRange.pm (see /tmp/research/noderange-regex.md section 1.9, "Dataset A").

/** `prefix` + each number from..to, zero-padded to `width`. */
function seq(prefix: string, from: number, to: number, width = 0, suffix = ''): string[] {
  const out: string[] = []
  for (let i = from; i <= to; i++) out.push(`${prefix}${String(i).padStart(width, '0')}${suffix}`)
  return out
}

/** Perl's sort: plain code-point order. */
function sorted(...lists: (string | readonly string[])[]): string[] {
  return lists.flat().sort()
}

type Vector = readonly [range: string, nodes: readonly string[], missing?: readonly string[]]

const NODES_1_12 = sorted(seq('node', 1, 12))
const RACK1 = sorted(seq('node', 1, 5))
const RACK2 = sorted(seq('node', 6, 12))
const NODES_A = sorted(
  seq('node', 1, 12),
  seq('n', 1, 12, 2),
  seq('c', 1, 12, 3),
  ['f1n1', 'f1n2', 'f1n3', 'f2n1', 'f2n2', 'f2n3'],
  seq('node', 1, 3, 0, '-eth0'),
  ['rack-1a', 'rack-2a', 'sn1.cluster', 'sn2.cluster', 'grpnode', 'r1u1', 'r1u2', 'r2u1', 'x'],
)

async function datasetA(tables: Tables): Promise<void> {
  const rows: { keys: Record<string, string>; values: Record<string, string | null> }[] = []
  const add = (node: string, groups: string | null, disable: string | null = null) => rows.push({ keys: { node }, values: { groups, disable } })
  for (let i = 1; i <= 12; i++) add(`node${i}`, `all,compute,${i <= 5 ? 'rack1' : 'rack2'}`)
  for (const n of seq('n', 1, 12, 2)) add(n, 'all,pad')
  for (const n of seq('c', 1, 12, 3)) add(n, 'all,pad3')
  for (const n of ['f1n1', 'f1n2', 'f1n3', 'f2n1', 'f2n2', 'f2n3']) add(n, 'all,frame')
  for (const n of seq('node', 1, 3, 0, '-eth0')) add(n, 'all,ifs')
  add('rack-1a', 'all')
  add('rack-2a', 'all')
  add('sn1.cluster', 'all,dom')
  add('sn2.cluster', 'all,dom')
  add('disabled1', 'all', '1')
  add('grpnode', '10,weird')
  add('r1u1', 'g1')
  add('r1u2', 'g2')
  add('r2u1', 'g3')
  add('x', null)
  await tables.setMany('nodelist', rows)
  await tables.setAttribs('nodegroup', { groupname: 'emptygrp' }, {})
  await tables.setAttribs('nodegroup', { groupname: 'dyn' }, { grouptype: 'dynamic', wherevals: 'mgt==ipmi::os=~^rhels' })
  await tables.setAttribs('nodegroup', { groupname: 'dynnone' }, { grouptype: 'dynamic', wherevals: 'mgt==nothing' })
  await tables.setAttribs('nodehm', { node: 'compute' }, { mgt: 'ipmi' })
  await tables.setAttribs('nodehm', { node: 'node3' }, { mgt: 'kvm' })
  await tables.setAttribs('nodehm', { node: 'n01' }, { mgt: '' })
  await tables.setAttribs('nodetype', { node: 'compute' }, { os: 'rhels8.6' })
  await tables.setAttribs('nodetype', { node: 'node2' }, { os: 'sles15' })
}

const VECTORS_A: readonly Vector[] = [
  ['node1', ['node1']],
  ['node1,node2', ['node1', 'node2']],
  ['node1-node3', ['node1', 'node2', 'node3']],
  ['node8-node11', ['node10', 'node11', 'node8', 'node9']],
  ['node[8-11]', ['node10', 'node11', 'node8', 'node9']],
  ['n01-n03', ['n01', 'n02', 'n03']],
  ['n[01-03]', ['n01', 'n02', 'n03']],
  ['n[01:03]', ['n01', 'n02', 'n03']],
  ['n1-n3', [], ['n1', 'n2', 'n3']],
  ['n[1-3]', [], ['n1', 'n2', 'n3']],
  ['n09-n11', ['n09', 'n10', 'n11']],
  ['n9-n11', ['n10', 'n11'], ['n9']],
  ['c001-c010', seq('c', 1, 10, 3)],
  ['c[001-003]', ['c001', 'c002', 'c003']],
  ['c001-c10', []],
  ['node1:node3', ['node1', 'node2', 'node3']],
  ['node1:node3:node5', ['node1', 'node2', 'node3']],
  ['f[1-2]n[1-3]', ['f1n1', 'f1n2', 'f1n3', 'f2n1', 'f2n2', 'f2n3']],
  ['f[1,2]n[2]', ['f1n2', 'f2n2']],
  ['node[1,3,5-6]', ['node1', 'node3', 'node5', 'node6']],
  ['node[1-3]-eth0', ['node1-eth0', 'node2-eth0', 'node3-eth0']],
  ['node1-eth0-node3-eth0', ['node1-eth0', 'node2-eth0', 'node3-eth0']],
  ['rack-1a-rack-2a', ['rack-1a', 'rack-2a']],
  ['node1+3', ['node1', 'node2', 'node3', 'node4']],
  ['n01+3', ['n01', 'n02', 'n03', 'n04']],
  ['n08+3', ['n08', 'n09', 'n10', 'n11']],
  ['1+2', ['node1', 'node2', 'node3']],
  ['2-4', ['node2', 'node3', 'node4']],
  ['10-12', ['node10', 'node11', 'node12']],
  ['sn1.cluster+1', ['sn1.cluster', 'sn2.cluster']],
  ['10', ['node10']],
  ['weird', ['grpnode']],
  ['node1-node3,-node2', ['node1', 'node3']],
  ['node1-node5,-node2-node4,node3', ['node1', 'node5']],
  ['-node2,node1-node3', ['node1', 'node3']],
  ['compute,-rack1,rack1', RACK2],
  ['all,-compute', sorted(NODES_A.filter((n) => !/^node\d+$/.test(n) && !['grpnode', 'r1u1', 'r1u2', 'r2u1', 'x'].includes(n)))],
  ['rack1@compute', RACK1],
  ['rack1@node3', ['node3']],
  ['compute@rack1,node12', sorted(RACK1, ['node12'])],
  ['node12,compute@rack1', sorted(RACK1, ['node12'])],
  ['node4,node1-node3@rack1', ['node1', 'node2', 'node3', 'node4']],
  ['node1@node2,node2', ['node2']],
  ['rack1,-node1@compute', ['node2', 'node3', 'node4', 'node5']],
  ['all@-rack1', RACK1],
  ['rack1-rack2', NODES_1_12],
  ['/node1.*', ['node1', 'node1-eth0', 'node10', 'node11', 'node12']],
  ['/node1', ['node1']],
  ['/n0[1-3]', ['n01', 'n02', 'n03']],
  ['/rack.*', ['rack-1a', 'rack-2a']],
  ['/compute', []],
  ['/node(1|2)', [], ['1|2']],
  ['/node1{1,2}', [], ['2}']],
  ['node13', [], ['node13']],
  ['node1-node14', NODES_1_12, ['node13', 'node14']],
  ['foo,bar', [], ['foo', 'bar']],
  ['foo,foo,node1', ['node1'], ['foo', 'foo']],
  ['node1-node3,-foo', ['node1', 'node2', 'node3'], ['foo']],
  ['NODE1', [], ['NODE1']],
  ['disabled1', [], ['disabled1']],
  ['x', ['x']],
  ['emptygrp', []],
  // xCAT's vector (node1) comes from mocked object definitions; from the real tables the members are
  // the compute nodes with an inherited mgt=ipmi and os=rhels8.6: node3 is kvm and node2 is sles15.
  ['dyn', sorted(['node1'], seq('node', 4, 12))],
  ['dynnone', []],
  ['mgt==ipmi', sorted(['node1', 'node2'], seq('node', 4, 12))],
  ['nodehm.mgt==ipmi', sorted(['node1', 'node2'], seq('node', 4, 12))],
  ['nodehm.mgt=~/^ip/', sorted(['node1', 'node2'], seq('node', 4, 12))],
  ['mgt==kvm', ['node3']],
  ['mgt=~^k', ['node3']],
  ['mgt!=ipmi', sorted(NODES_A.filter((n) => !/^node([124-9]|1[0-2])$/.test(n)))],
  ['mgt!~ipmi', sorted(NODES_A.filter((n) => !/^node([124-9]|1[0-2])$/.test(n)))],
  ['nodetype.os=~rhels', sorted(['node1'], seq('node', 3, 12))],
  ['nodetype.os==', sorted(NODES_A.filter((n) => !/^node\d+$/.test(n)))],
  ['groups==all,pad', sorted(['rack-1a', 'rack-2a'], seq('n', 1, 12, 2))],
  ['groups=~pad3', seq('c', 1, 12, 3)],
  ['groups=~(a|b)', [], ['a|b']],
  // An empty Perl pattern reuses the last successful one, expandatom's /[=~]/.
  ['groups=~', []],
  ['groups=~/', []],
  ['mgt=~//', []],
  ['nodetype.os!~', NODES_A],
  ['foo=bar', []],
  ['node~1', []],
  ['nosuchtab.col==x', []],
  ['nodehm.nosuchcol==x', []],
  ['nodehm.mg==ipmi', []],
  ['(node1,node2)', ['node1', 'node2']],
  ['(node1,node2),-node1', ['node2']],
  ['rack1,-(node1,node2)', ['node3', 'node4', 'node5']],
  ['-(node1),node1', ['node1']],
  ['node1,-(node1)', []],
  ['rack1@(node1,node12)', ['node1']],
  ['(rack1,rack2)@compute', NODES_1_12],
  ['((node1,node2),node3),-node2', ['node1', 'node3']],
  ['a-b-c', [], ['a-b-c']],
  ['node1-node3-node5', [], ['node1-node3-node5']],
  ['node1--node3', [], ['node1--node3']],
  ['r1u1-r2u2', [], ['r1u1-r2u2']],
  ['r1u1-r1u2', ['r1u1', 'r1u2']],
  ['rack1-node3', [], ['rack1-node3']],
  ['node1-10', [], ['node1-10']],
  ['node3-node1', []],
  ['node10-node8', []],
  ['node01-node1', []],
  ['n01-n9', []],
  ['node2+-1', []],
  ['node1+1.5', ['node1', 'node2']],
  ['node1+abc', ['node1']],
  ['node1+ 2', ['node1', 'node2', 'node3']],
  ['node1+2x', ['node1', 'node2', 'node3']],
  ['node1+1e1', sorted(seq('node', 1, 11))],
  ['node1++1', ['node1', 'node2']],
  ['node1+', ['node1']],
  ['n02+-1', seq('n', 2, 12, 2), seq('n', 13, 99, 2)],
  ['n03-n01', seq('n', 3, 12, 2), seq('n', 13, 99, 2)],
  ['node1-node01', ['node1']],
  ['node[1-3]x', [], ['node1x', 'node2x', 'node3x']],
  ['[1-3]', [], ['[1-3]']],
  ["'node1'", ['node1']],
  ['"node1",\'node2\'', ['node1', 'node2']],
  ['node1,,node2', ['node1', 'node2']],
  [',node1,', ['node1']],
  ['node1 node2', [], ['node1 node2']],
  ['99', [], ['node99']],
  ['98+1', [], ['node98', 'node99']],
  ['', []],
]

// More Dataset A vectors from the harness (`perl nr.pl ./scen1.pl ...`): [range, nodes, missing] as comma lists.
const HARNESS_A: readonly (readonly [range: string, nodes: string, missing?: string])[] = [
  ['node1-node3,node5', 'node1,node2,node3,node5'],
  ['node[1-3],node[5-6]', 'node1,node2,node3,node5,node6'],
  ['node[1-2],-node1', 'node2'],
  ['node[01-03]', '', 'node01,node02,node03'],
  ['n[1-12]', 'n10,n11,n12', 'n1,n2,n3,n4,n5,n6,n7,n8,n9'],
  ['n[01-12]', 'n01,n02,n03,n04,n05,n06,n07,n08,n09,n10,n11,n12'],
  ['c[1-3]', '', 'c1,c2,c3'],
  ['c[001-012]', 'c001,c002,c003,c004,c005,c006,c007,c008,c009,c010,c011,c012'],
  ['f[1-2]n[1-3],-f1n2', 'f1n1,f1n3,f2n1,f2n2,f2n3'],
  ['f[1-2]n[1-3]@frame', 'f1n1,f1n2,f1n3,f2n1,f2n2,f2n3'],
  ['f1n[1-3]', 'f1n1,f1n2,f1n3'],
  ['f[1-2]n1', 'f1n1,f2n1'],
  ['f[1-3]n[1-4]', 'f1n1,f1n2,f1n3,f2n1,f2n2,f2n3', 'f1n4,f2n4,f3n1,f3n2,f3n3,f3n4'],
  ['node[1-3]+1', 'node1,node2'],
  ['node1+1,node5+1', 'node1,node2,node5,node6'],
  ['n[01-02]+1', 'n01,n02'],
  ['rack1,rack2', 'node1,node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['rack1@rack2', ''],
  ['rack1,-rack1', ''],
  ['-rack1', ''],
  ['-node1', ''],
  ['@rack1', ''],
  ['rack1@', 'node1,node2,node3,node4,node5'],
  [',', ''],
  ['@', ''],
  ['-', ''],
  ['node1,-', 'node1'],
  ['all@compute@rack1', 'node1,node2,node3,node4,node5'],
  ['all@compute,-node1@rack1', 'node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['compute@-rack2', 'node10,node11,node12,node6,node7,node8,node9'],
  ['compute,-rack2,-node1', 'node2,node3,node4,node5'],
  ['(compute)', 'node1,node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['(compute@rack1)', 'node1,node2,node3,node4,node5'],
  ['((rack1))', 'node1,node2,node3,node4,node5'],
  ['(rack1),(rack2)@compute', 'node1,node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['node1,(node2,node3)', 'node1,node2,node3'],
  ['(node1-node3),-(node2)', 'node1,node3'],
  ['(node1,node2)@(node2,node3)', 'node2'],
  ['rack1@(node1,node2),node12', 'node1,node12,node2'],
  ['node[1-2,5]', 'node1,node2,node5'],
  ['node[1-2],node[4-5]@rack1', 'node1,node2,node4,node5'],
  ['/node[1-3]', 'node1,node2,node3'],
  ['/n0.', 'n01,n02,n03,n04,n05,n06,n07,n08,n09'],
  ['/.*-eth0', 'node1-eth0,node2-eth0,node3-eth0'],
  ['/f.n.', 'f1n1,f1n2,f1n3,f2n1,f2n2,f2n3'],
  ['/^node1', 'node1'],
  ['/node1$', 'node1'],
  ['/node\\d', 'node1,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['/sn1\\.cluster', 'sn1.cluster'],
  ['sn1.cluster-sn2.cluster', 'sn1.cluster,sn2.cluster'],
  ['sn1.cluster:sn2.cluster', 'sn1.cluster,sn2.cluster'],
  ['node1.cluster', '', 'node1.cluster'],
  ['node1:node3,node5:node6', 'node1,node2,node3,node5,node6'],
  ['node1:node1', 'node1'],
  ['node1-node1', 'node1'],
  ['node01-node03', '', 'node01,node02,node03'],
  ['node1-node3-eth0', '', 'node1-node3-eth0'],
  ['node1-eth0:node3-eth0', 'node1-eth0,node2-eth0,node3-eth0'],
  ['node1-eth0+2', 'node1-eth0', 'node1-eth1,node1-eth2'],
  ['1-3,-2', 'node1,node3'],
  ['01-03', '', 'node01,node02,node03'],
  ['1:3', 'node1,node2,node3'],
  ['00', '', 'node00'],
  ['10+2', 'node10,node11,node12'],
  ['node', '', 'node'],
  ['nodex', '', 'nodex'],
  ['-node1-node3', ''],
  ['grpnode,10', 'grpnode,node10'],
  ['10,weird', 'grpnode,node10'],
  ['g1-g3', 'r1u1,r1u2,r2u1'],
  ['r1u1:r2u1', 'r1u1,r2u1'],
  ['r1u1-r1u3', 'r1u1,r1u2', 'r1u3'],
  ['r1u1+1', 'r1u1,r1u2'],
  ['r2u1-r2u1', 'r2u1'],
  ['mgt==ipmi,-rack2', 'node1,node2,node4,node5'],
  ['mgt==ipmi@rack1', 'node1,node2,node4,node5'],
  ['rack1@mgt==ipmi', 'node1,node2,node4,node5'],
  ['groups=~rack', 'node1,node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['tags=~frame', 'f1n1,f1n2,f1n3,f2n1,f2n2,f2n3'],
  ['nodelist.groups=~dom', 'sn1.cluster,sn2.cluster'],
  ['nodelist.groups==all,dom', 'rack-1a,rack-2a,sn1.cluster,sn2.cluster'],
  ['nodelist.node=~^r', 'r1u1,r1u2,r2u1,rack-1a,rack-2a'],
  ['nodelist.status!=', ''],
  ['nodehm.mgt!=', 'node1,node10,node11,node12,node2,node3,node4,node5,node6,node7,node8,node9'],
  ['mgt=ipmi', 'node1,node10,node11,node12,node2,node4,node5,node6,node7,node8,node9'],
  ['mgt', '', 'mgt'],
  ['nodehm.mgt', '', 'nodehm.mgt'],
  ['=ipmi', ''],
  ['==ipmi', ''],
  ['foo-bar', '', 'foo-bar'],
  ['foo-bar-baz', '', 'foo-bar-baz'],
  ['foo:bar', '', 'foo:bar'],
  ['foo[1-2]', '', 'foo1,foo2'],
  ['foo+1', '', 'foo+1'],
  ['node1,node1,node1', 'node1'],
  ['node1@node1', 'node1'],
  ['node1@foo', '', 'foo'],
  ['foo@node1', '', 'foo'],
  ['-foo', '', 'foo'],
  ['all@-foo', '', 'foo'],
  ['(foo)', '', 'foo'],
  ['(foo,node1)', 'node1', 'foo'],
  ['node[1-3]@foo', '', 'foo'],
  ['emptygrp,node1', 'node1'],
  ['emptygrp@all', ''],
  ['emptygrp-node3', '', 'emptygrp-node3'],
  ['x,-x', ''],
  ['x@all', ''],
  ['disabled1,node1', 'node1', 'disabled1'],
  ['node0', '', 'node0'],
  ['node-1', '', 'node-1'],
  ['node1--2', '', 'node1--2'],
  ['node1-', '', 'node1-'],
  ['-node1-', '', 'node1-'],
  ['node1+0', 'node1'],
  ['node12+3', 'node12', 'node13,node14,node15'],
  ['n11+3', 'n11,n12', 'n13,n14'],
  ['c011+3', 'c011,c012', 'c013,c014'],
  ['n11-n13', 'n11,n12', 'n13'],
  ['c010-c013', 'c010,c011,c012', 'c013'],
  ['n8-n10', 'n10', 'n8,n9'],
  ['node[]', '', 'node[]'],
  ['node[1-]', '', 'node1-'],
  ['node[-3]', '', 'node-node3'],
  ['node[1-3', '', 'node[1-3'],
  ['node1-3]', '', 'node1-3]'],
  ['node[a-c]', '', 'nodea-nodec'],
  ['node[1-3][1-2]', 'node11,node12', 'node21,node22,node31,node32'],
  ['node1,node2 ,node3', 'node1,node3', 'node2 '],
  [' node1', '', ' node1'],
  ['node1 ', '', 'node1 '],
  ['node1x+1', '', 'node1x+1'],
  ['n01x+1', '', 'n01x+1'],
  ['node[1-,2]', 'node2', 'node1-node'],
  ['node[-1]', '', 'node-node1'],
  ['node[1,]', 'node1'],
  ['node[,1]', 'node1', 'node'],
  ['node[1::2]', '', 'node1:node:node2'],
  ['node[1:]', '', 'node1:'],
  ['node.x+1', '', 'node.x+1'],
  ['sn1.cluster+x', 'sn1.cluster'],
  ['sn1.cluster+1.5', 'sn1.cluster,sn2.cluster'],
  ['x+1', '', 'x+1'],
  ['+1', '', '+1'],
  ['+', '', '+'],
  ['1+', 'node1'],
  ['node1+1+1', 'node1,node2'],
  ['node1+1,+2', 'node1,node2', '+2'],
  ['node[1-2]+1', 'node1,node2'],
  ['/node1|node2', 'node1,node1-eth0,node10,node11,node12,node2'],
  ['/node1|rack.*', 'node1,node1-eth0,node10,node11,node12,rack-1a,rack-2a'],
  ['/node\\d{2}', 'node10,node11,node12'],
  ['/node1[0-2]', 'node10,node11,node12'],
  ['/node1.?', 'node1,node10,node11,node12'],
  ['/', ''],
  ['node1)', '', 'node1)'],
  ['()', ''],
  ['node1,()', 'node1'],
  ['(node1)(node2)', 'node1,node2'],
  ['a(node1)', 'node1', 'a'],
  ['node1-(node2)', '', 'node1-'],
  ['rack1@-(node1)', 'node2,node3,node4,node5'],
  ['(node1,node2)node3', 'node1,node2,node3'],
  ['-(rack1)', ''],
  ['@(rack1)', ''],
  ['rack1,@(node1)', 'node1'],
  ['rack1-(node1)', '', 'rack1-'],
  ['[', '', '['],
  [']', '', ']'],
  ['[]', '', '[]'],
  ['node1,[1-3]', 'node1', '[1-3]'],
  ['^', ''],
  ['node1,^', 'node1'],
  ['node1|node2', '', 'node1|node2'],
  ['node1;node2', '', 'node1;node2'],
  ['node1/node2', '', 'node1/node2'],
  ['node1@@node2', ''],
  ['node1,,@node1', 'node1'],
  ['node1@,node2', 'node1,node2'],
  ['@node1,node2', 'node2'],
  ['rack1@node1-node3', 'node1,node2,node3'],
  ['rack1@node1:node3', 'node1,node2,node3'],
  ['rack1@node[1-3]', 'node1,node2,node3'],
  ['rack1@/node[1-3]', 'node1,node2,node3'],
  ['rack1@1-3', 'node1,node2,node3'],
  ['rack1,-1-3', 'node4,node5'],
  ['compute,-/node1.*', 'node2,node3,node4,node5,node6,node7,node8,node9'],
  ['/node1.*,-node1', 'node1-eth0,node10,node11,node12'],
  ['groups=~rack1,node6', 'node1,node2,node3,node4,node5,node6'],
  ['groups=~rack1@compute', 'node1,node2,node3,node4,node5'],
  ['compute@groups=~rack1', 'node1,node2,node3,node4,node5'],
  ['nodehm.mgt=~ipmi@rack1', 'node1,node2,node4,node5'],
  ['nodehm.mgt=~i.m', 'node1,node10,node11,node12,node2,node4,node5,node6,node7,node8,node9'],
  ['nodehm.mgt==ipmi==x', ''],
  ['nodehm.mgt=ipmi=x', ''],
  ['nodehm.node==node3', 'node3'],
  ['nodetype.os=~^RHELS', ''],
  ['mgt=~ipmi,-mgt=~ipmi', ''],
  ['(mgt==kvm)', 'node3'],
  ['-mgt==kvm,node3', ''],
  ['node3,-mgt==kvm', ''],
]

const csv = (list: string | undefined): string[] => (list ? list.split(',') : [])

describe('expandNoderange (xCAT noderange)', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const open = (): Tables => {
    const dir = mkdtempSync(join(tmpdir(), 'noderange-test-'))
    dirs.push(dir)
    return new Tables(new SqliteDriver(dir))
  }
  const opened: Tables[] = []
  let tables: Tables
  const env: NoderangeOptions['env'] = {}

  before(async () => {
    tables = open()
    opened.push(tables)
    await datasetA(tables)
  })

  after(async () => {
    for (const t of opened) await t.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  describe('Dataset A', () => {
    for (const [range, nodes, missing = []] of VECTORS_A) {
      it(`${JSON.stringify(range)} -> [${nodes.length > 8 ? `${nodes.length} nodes` : nodes.join(',')}]${missing.length ? ` missing ${missing.length > 8 ? `${missing.length} names` : missing.join(',')}` : ''}`, async () => {
        const result = await expandNoderange(tables, range, { env })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal(missing)
      })
    }

    for (const [range, nodes, missing] of HARNESS_A) {
      it(`${JSON.stringify(range)} -> [${nodes}]${missing ? ` missing ${missing}` : ''}`, async () => {
        const result = await expandNoderange(tables, range, { env })
        expect(result.nodes).to.deep.equal(csv(nodes))
        expect(result.missing).to.deep.equal(csv(missing))
      })
    }

    it('sorts nodes with a plain string sort', async () => {
      const { nodes } = await expandNoderange(tables, 'rack1-rack2', { env })
      expect(nodes).to.deep.equal(['node1', 'node10', 'node11', 'node12', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7', 'node8', 'node9'])
    })

    it('dies on unbalanced parentheses', async () => {
      let error: unknown
      try {
        await expandNoderange(tables, 'node1,(node2', { env })
      } catch (err) {
        error = err
      }
      expect(error).to.be.instanceOf(Error)
      expect((error as Error).message).to.match(/Unbalanced parentheses in noderange/)
    })

    for (const range of ['/node[', 'nodehm.mgt=~[', 'all,nodehm.mgt!~*']) {
      it(`an invalid regular expression dies: ${range}`, async () => {
        let error: unknown
        try {
          await expandNoderange(tables, range, { env })
        } catch (err) {
          error = err
        }
        expect(error).to.be.instanceOf(Error)
      })
    }

    it('verify=false passes unknown names through', async () => {
      const result = await expandNoderange(tables, 'newnode1-newnode3,node1,/anything', { env, verify: false })
      expect(result.nodes).to.deep.equal(['/anything', 'newnode1', 'newnode2', 'newnode3', 'node1'])
      expect(result.missing).to.deep.equal([])
    })
  })

  describe('XCAT_NODE_PREFIX / XCAT_NODE_SUFFIX', () => {
    const VECTORS: readonly (readonly [env: Record<string, string>, range: string, nodes: readonly string[], missing?: readonly string[]])[] = [
      [{ XCAT_NODE_PREFIX: 'n0' }, '1-3', ['n01', 'n02', 'n03']],
      [{ XCAT_NODE_PREFIX: 'n0' }, '1+2', ['n01', 'n02', 'n03']],
      [{ XCAT_NODE_PREFIX: 'n' }, '09-11', ['n09', 'n10', 'n11']],
      [{ XCAT_NODE_PREFIX: 'n0' }, '7', ['n07']],
      [{ XCAT_NODE_SUFFIX: '-eth0' }, '1-3', ['node1-eth0', 'node2-eth0', 'node3-eth0']],
      [{ XCAT_NODE_PREFIX: 'abc' }, '10-12', [], ['abc10', 'abc11', 'abc12']],
      [{ XCAT_NODE_PREFIX: 'abc', XCAT_NODE_SUFFIX: 'def' }, '10', [], ['abc10def']],
      [{ XCAT_NODE_PREFIX: 'n0' }, 'node1', ['node1']],
    ]
    for (const [vars, range, nodes, missing = []] of VECTORS) {
      it(`${JSON.stringify(vars)} ${range} -> [${nodes.join(',')}]`, async () => {
        const result = await expandNoderange(tables, range, { env: vars })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal(missing)
      })
    }
  })

  describe('^file', () => {
    let file: string
    before(() => {
      const dir = mkdtempSync(join(tmpdir(), 'noderange-file-'))
      dirs.push(dir)
      file = join(dir, 'nrfile')
      writeFileSync(file, '#comment\n^/tmp/other\nnode1    #c\nnode2:foo\n\nnode5-node6\n-node6\nbogus\n\tnode7\n')
    })

    const FILE_NODES = ['node1', 'node2', 'node5', 'node6']
    // Our deliberate differences from xCAT: a ^file does not reset the missing list, and a -/@ prefix applies to the
    // file's nodes (xCAT always adds them and applies the operator to the next atom).
    const VECTORS: readonly (readonly [range: (file: string) => string, nodes: readonly string[], missing: readonly string[]])[] = [
      [(f) => `^${f}`, FILE_NODES, ['bogus']],
      [(f) => `foo,^${f}`, FILE_NODES, ['foo', 'bogus']],
      [(f) => `^${f},foo`, FILE_NODES, ['bogus', 'foo']],
      [(f) => `-^${f},node7`, ['node7'], ['bogus']],
      [(f) => `node1-node7,-^${f}`, ['node3', 'node4', 'node7'], ['bogus']],
      [(f) => `rack1@^${f}`, ['node1', 'node2', 'node5'], ['bogus']],
      [(f) => `rack1,@^${f}`, ['node1', 'node2', 'node5'], ['bogus']],
      [(f) => `^${f},-node1`, ['node2', 'node5', 'node6'], ['bogus']],
      [() => '^/nonexistent/noderange/file,node7', ['node7'], []],
      [() => '-^/nonexistent/noderange/file,node7', ['node7'], []],
    ]
    for (const [range, nodes, missing] of VECTORS) {
      it(`${range('FILE')} -> [${nodes.join(',')}] missing ${missing.join(',') || '(none)'}`, async () => {
        const result = await expandNoderange(tables, range(file), { env })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal(missing)
      })
    }
  })

  describe('site.excludenodes', () => {
    let excl: Tables
    let ghost: Tables
    before(async () => {
      excl = open()
      ghost = open()
      opened.push(excl, ghost)
      await datasetA(excl)
      await excl.setAttribs('site', { key: 'excludenodes' }, { value: 'node2,rack2' })
      await datasetA(ghost)
      await ghost.setAttribs('site', { key: 'excludenodes' }, { value: 'ghost,node2' })
    })

    const VECTORS: readonly (readonly [which: 'excl' | 'ghost', range: string, nodes: readonly string[], missing?: readonly string[], options?: NoderangeOptions])[] = [
      ['excl', 'compute', ['node1', 'node3', 'node4', 'node5']],
      ['excl', 'node2', []],
      ['excl', 'all@rack2', []],
      ['excl', 'node1-node8', ['node1', 'node3', 'node4', 'node5']],
      // xCAT loses "foo" here (its excludenodes lookup resets the missing list); we report it.
      ['excl', 'foo,node1', ['node1'], ['foo']],
      ['excl', 'compute', sorted(seq('node', 1, 12)), [], { excludeSite: false }],
      ['ghost', 'node1-node3', ['node1', 'node3'], ['ghost']],
      ['ghost', 'node1,foo', ['node1'], ['foo', 'ghost']],
      // excludenodes applies in nested noderanges too, but its missing names are reported once.
      ['ghost', 'foo,node1@compute,(node2,node3)', ['node1', 'node3'], ['foo', 'ghost']],
      ['excl', '(compute),rack2@all', ['node1', 'node3', 'node4', 'node5']],
    ]
    for (const [which, range, nodes, missing = [], options = {}] of VECTORS) {
      it(`excludenodes=${which === 'excl' ? 'node2,rack2' : 'ghost,node2'}${options.excludeSite === false ? ' (ignored)' : ''}: ${range} -> [${nodes.join(',')}]`, async () => {
        const result = await expandNoderange(which === 'excl' ? excl : ghost, range, { env, ...options })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal(missing)
      })
    }
  })

  describe('dynamic groups (wherevals)', () => {
    let dyn: Tables
    before(async () => {
      dyn = open()
      opened.push(dyn)
      await dyn.setMany('nodelist', [...seq('node', 1, 6), 'fs2vm1'].map((node) => ({ keys: { node }, values: { groups: 'all' } })))
      const hm: Record<string, string> = { node1: 'ipmi', node2: 'ipmi', node3: 'kvm', node5: 'ipmi', fs2vm1: 'kvm' }
      for (const [node, mgt] of Object.entries(hm)) await dyn.setAttribs('nodehm', { node }, { mgt })
      const os: Record<string, string> = { node1: 'rhels8', node2: 'sles15', node3: 'rhels9', node4: 'ubuntu' }
      for (const [node, o] of Object.entries(os)) await dyn.setAttribs('nodetype', { node }, { os: o })
      const groups: Record<string, string | null> = {
        d_eq: 'mgt==ipmi',
        d_single: 'mgt=ipmi',
        d_ne: 'mgt!=ipmi',
        d_re: 'os=~/^rh/',
        d_nre: 'os!~rh',
        d_and: 'mgt==ipmi::os=~rhels',
        d_dup: 'mgt==ipmi::mgt==kvm',
        d_node: 'node=~/fs2vm.*',
        d_bad: 'mgt',
        d_badpartial: 'mgt==kvm::junk',
        d_empty: null,
      }
      for (const [groupname, wherevals] of Object.entries(groups)) await dyn.setAttribs('nodegroup', { groupname }, { grouptype: 'dynamic', wherevals })
      await dyn.setAttribs('nodegroup', { groupname: 'd_disabled' }, { grouptype: 'dynamic', wherevals: 'mgt==ipmi', disable: '1' })
    })

    const ALL = ['fs2vm1', 'node1', 'node2', 'node3', 'node4', 'node5', 'node6']
    const VECTORS: readonly Vector[] = [
      ['d_eq', ['node1', 'node2', 'node5']],
      ['d_single', ['node1', 'node2', 'node5']],
      ['d_ne', ['fs2vm1', 'node3']],
      ['d_re', ['node1', 'node3']],
      ['d_nre', ['node2', 'node4']],
      ['d_and', ['node1']],
      ['d_dup', ['fs2vm1', 'node3']],
      ['d_node', ['fs2vm1']],
      ['d_bad', ALL],
      ['d_badpartial', ['fs2vm1', 'node3']],
      ['d_empty', ALL],
      ['d_disabled', [], ['d_disabled']],
      ['d_eq,-node1', ['node2', 'node5']],
      ['d_eq@d_re', ['node1']],
    ]
    for (const [range, nodes, missing = []] of VECTORS) {
      it(`${range} -> [${nodes.join(',')}]`, async () => {
        const result = await expandNoderange(dyn, range, { env })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal(missing)
      })
    }
  })

  describe('empty selector patterns', () => {
    let quirk: Tables
    before(async () => {
      quirk = open()
      opened.push(quirk)
      await quirk.setMany('nodelist', seq('node', 1, 4).map((node) => ({ keys: { node }, values: { groups: 'all' } })))
      await quirk.setAttribs('nodetype', { node: 'node1' }, { os: 'x~y' })
      await quirk.setAttribs('nodetype', { node: 'node2' }, { os: 'a=b' })
      await quirk.setAttribs('nodetype', { node: 'node3' }, { os: 'rhels' })
    })

    const VECTORS: readonly Vector[] = [
      ['nodetype.os=~', ['node1', 'node2']],
      ['nodetype.os!~', ['node3', 'node4']],
      ['nodetype.os=~/', ['node1', 'node2']],
      ['nodetype.os=~//', ['node1', 'node2']],
      ['nodetype.os!~//', ['node3', 'node4']],
      ['nodetype.os=~,node1', ['node1', 'node2']],
    ]
    for (const [range, nodes] of VECTORS) {
      it(`${range} -> [${nodes.join(',')}]`, async () => {
        const result = await expandNoderange(quirk, range, { env })
        expect(result.nodes).to.deep.equal(nodes)
        expect(result.missing).to.deep.equal([])
      })
    }
  })

  describe('10,000 nodes', () => {
    let big: Tables
    const ALL = seq('node', 1, 10_000, 5)
    before(async () => {
      big = open()
      opened.push(big)
      await big.setMany(
        'nodelist',
        ALL.map((node, i) => ({ keys: { node }, values: { groups: `all,${i < 5000 ? 'lower' : 'upper'}` } })),
      )
    })

    it('node00001-node10000 expands to all 10,000 nodes', async () => {
      const result = await expandNoderange(big, 'node00001-node10000', { env })
      expect(result.nodes).to.have.length(10_000)
      expect(result.nodes).to.deep.equal(ALL)
      expect(result.missing).to.deep.equal([])
    })

    it('node[00001-10000] and the all group agree', async () => {
      expect((await expandNoderange(big, 'node[00001-10000]', { env })).nodes).to.deep.equal(ALL)
      expect((await expandNoderange(big, 'all', { env })).nodes).to.deep.equal(ALL)
    })

    it('all,-node00001-node05000 keeps the upper half', async () => {
      const result = await expandNoderange(big, 'all,-node00001-node05000', { env })
      expect(result.nodes).to.deep.equal(ALL.slice(5000))
      expect(result.missing).to.deep.equal([])
    })

    it('all@-node00001-node05000 is an intersection (the - is ignored after @)', async () => {
      const result = await expandNoderange(big, 'all@-node00001-node05000', { env })
      expect(result.nodes).to.deep.equal(ALL.slice(0, 5000))
    })

    it('groups, ranges and exclusions combine', async () => {
      const result = await expandNoderange(big, 'upper,node00001+9,-node09991-node10000', { env })
      expect(result.nodes).to.deep.equal([...ALL.slice(0, 10), ...ALL.slice(5000, 9990)])
    })

    it('node09990-node10001 reports the one missing name', async () => {
      const result = await expandNoderange(big, 'node09990-node10001', { env })
      expect(result.nodes).to.deep.equal(ALL.slice(9989))
      expect(result.missing).to.deep.equal(['node10001'])
    })

    it('a /regex over all nodes', async () => {
      const result = await expandNoderange(big, '/node0999[0-9]', { env })
      expect(result.nodes).to.deep.equal(ALL.slice(9989, 9999))
    })
  })
})

describe('perlRange (Perl .. on digit strings)', () => {
  const VECTORS: readonly (readonly [left: string, right: string, expected: readonly string[]])[] = [
    ['1', '3', ['1', '2', '3']],
    ['01', '03', ['01', '02', '03']],
    ['09', '11', ['09', '10', '11']],
    ['001', '10', []],
    ['01', '1', []],
    ['1', '01', ['1']],
    ['3', '1', []],
    ['98', '100', ['98', '99', '100']],
    ['0', '2', ['0', '1', '2']],
  ]
  for (const [left, right, expected] of VECTORS) {
    it(`"${left}".."${right}" -> [${expected.join(',')}]`, () => {
      expect(perlRange(left, right)).to.deep.equal(expected)
    })
  }

  it('"03".."01" runs the magic increment up to "99"', () => {
    expect(perlRange('03', '01')).to.deep.equal(seq('', 3, 99, 2))
  })
})
