import { expect } from 'chai'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyBootFiles, bootConfigPath, bootState, nodesetStat } from '../../../lib/boot/apply.js'
import { renderGrub2 } from '../../../lib/boot/grub2.js'
import { renderPetitboot } from '../../../lib/boot/petitboot.js'
import { fsBootProbe } from '../../../lib/boot/probe.js'
import { renderPxe } from '../../../lib/boot/pxe.js'
import type { BootFiles, BootLoader, NodeBootInfo, SiteBootSettings } from '../../../lib/boot/types.js'
import { renderXnba } from '../../../lib/boot/xnba.js'
import { GENESIS_X86, nodeInfo, writeKernel, type StateCase } from './golden.js'

type Entry = { kind: 'file'; content: string; ino: number } | { kind: 'link'; target: string }

function tree(root: string, dir = ''): Map<string, Entry> {
  const out = new Map<string, Entry>()
  for (const name of readdirSync(join(root, dir))) {
    const rel = dir ? `${dir}/${name}` : name
    const st = lstatSync(join(root, rel))
    if (st.isDirectory()) for (const [k, v] of tree(root, rel)) out.set(k, v)
    else if (st.isSymbolicLink()) out.set(rel, { kind: 'link', target: readlinkSync(join(root, rel)) })
    else out.set(rel, { kind: 'file', content: readFileSync(join(root, rel), 'utf8'), ino: st.ino })
  }
  return out
}

function renderAll(info: NodeBootInfo, site: SiteBootSettings): BootFiles[] {
  const probe = fsBootProbe()
  return [renderXnba(info, site, probe), renderPxe(info, site, probe), renderGrub2(info, site, probe), renderPetitboot(info, site, probe)]
}

const BASE_FILES = ['boot/grub2/grub2.x86_64', GENESIS_X86.initrd, GENESIS_X86.kernel]

describe('applying boot files', () => {
  let root: string
  let site: SiteBootSettings

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'boot-apply-'))
    site = { tftpdir: root }
    writeKernel(root, GENESIS_X86.kernel, false)
    writeFileSync(join(root, GENESIS_X86.initrd), 'initrd')
    mkdirSync(join(root, 'boot/grub2'), { recursive: true })
    writeFileSync(join(root, 'boot/grub2/grub2.x86_64'), 'grub')
  })

  afterEach(() => rmSync(root, { recursive: true, force: true }))

  function apply(kase: StateCase, extra: Partial<NodeBootInfo> = {}): BootFiles[] {
    const sets = renderAll(nodeInfo(kase, extra), site)
    applyBootFiles(root, sets)
    return sets
  }

  function expectTree(sets: readonly BootFiles[]): Map<string, Entry> {
    const t = tree(root)
    const want = new Set(BASE_FILES)
    for (const set of sets) {
      for (const f of set.files) {
        want.add(f.path)
        expect(t.get(f.path)).to.include({ kind: 'file', content: f.content })
      }
      for (const l of set.symlinks) {
        want.add(l.path)
        expect(t.get(l.path)).to.deep.equal({ kind: 'link', target: l.target })
      }
      for (const l of set.hardlinks) {
        want.add(l.path)
        const link = t.get(l.path)
        const target = t.get(l.target)
        expect(link?.kind).to.equal('file')
        expect(link?.kind === 'file' && target?.kind === 'file' && link.ino === target.ino, l.path).to.equal(true)
      }
    }
    expect([...t.keys()].sort()).to.deep.equal([...want].sort())
    return t
  }

  it('writes every loader\'s files, symlinks and hard links', () => {
    const sets = apply('sysclone', { aliasIps: ['10.0.1.5'] })
    const t = expectTree(sets)
    expect(t.get('pxelinux.cfg/0A000005')).to.deep.equal({ kind: 'link', target: 'n1' })
    expect(t.get('boot/grub2/grub2-n1')).to.deep.equal({ kind: 'link', target: 'grub2.x86_64' })
    expect(readFileSync(join(root, 'pxelinux.cfg/0A000105'), 'utf8')).to.match(/^#sysclone rhels9\.4-x86_64\n/)
    expect(statSync(join(root, '0A000005')).ino).to.equal(statSync(join(root, 'petitboot/n1')).ino)
    expect(statSync(join(root, 'boot/grub2/grub.cfg-01-52-54-00-00-00-01')).nlink).to.equal(4)
    expect(t.has('xcat/xnba/nodes/n1.elilo')).to.equal(true)
  })

  it('replaces an earlier state completely', () => {
    apply('sysclone', { aliasIps: ['10.0.1.5'] })
    const sets = apply('boot', { aliasIps: ['10.0.1.5'] })
    const t = expectTree(sets)
    expect(t.has('xcat/xnba/nodes/n1.elilo')).to.equal(false)
    expect(t.has('boot/grub2/grub2-n1')).to.equal(false)
    expect(readFileSync(join(root, 'boot/grub2/grub.cfg-0A000005'), 'utf8')).to.equal('#boot\nset timeout=5\n')
    expect(readFileSync(join(root, '0A000005'), 'utf8')).to.equal('#boot\n')
    for (const loader of ['xnba', 'pxe', 'grub2', 'petitboot'] as const) expect(bootState(root, loader, 'n1')).to.equal('boot')
  })

  it('leaves nothing of the node behind for offline', () => {
    apply('shell', { aliasIps: ['10.0.1.5'] })
    applyBootFiles(root, renderAll(nodeInfo('offline', { aliasIps: ['10.0.1.5'] }), site))
    expect([...tree(root).keys()].sort()).to.deep.equal([...BASE_FILES].sort())
    expect(bootState(root, 'grub2', 'n1')).to.equal(undefined)
    expect(nodesetStat(root, 'xnba', 'n1')).to.equal('offline')
    expect(nodesetStat(root, 'pxe', 'n1')).to.equal('boot')
    expect(nodesetStat(root, 'grub2', 'n1')).to.equal('offline')
    expect(nodesetStat(root, 'petitboot', 'n1')).to.equal('offline')
  })

  it('drops grub2 links to the old config that the new state no longer has', () => {
    apply('sysclone', { macs: ['52:54:00:00:00:01'] })
    const sets = apply('sysclone', { macs: ['52:54:00:00:00:02'] })
    const t = expectTree(sets)
    expect(t.has('boot/grub2/grub.cfg-01-52-54-00-00-00-01')).to.equal(false)
    expect(t.has('boot/grub2/grub.cfg-01-52-54-00-00-00-02')).to.equal(true)
  })

  it('reads the state from the second line for xnba and the first for the others', () => {
    apply('runcmd-bmcsetup')
    for (const loader of ['xnba', 'pxe', 'grub2', 'petitboot'] as const) {
      expect(bootState(root, loader, 'n1')).to.equal('runcmd=bmcsetup')
      expect(nodesetStat(root, loader, 'n1')).to.equal('runcmd=bmcsetup')
    }
    expect(bootState(root, 'pxe', 'n2')).to.equal(undefined)
    mkdirSync(join(root, 'xcat/xnba/nodes'), { recursive: true })
    writeFileSync(join(root, 'xcat/xnba/nodes/n3'), '#!gpxe\n')
    expect(bootState(root, 'xnba', 'n3')).to.equal('')
    mkdirSync(join(root, 'pxelinux.cfg'), { recursive: true })
    writeFileSync(join(root, 'pxelinux.cfg/n4'), '#shell\nDEFAULT xCAT\n')
    expect(nodesetStat(root, 'xnba', 'n4')).to.equal('shell')
  })

  it('replaces existing symlinks and keeps hard links that already share the inode', () => {
    mkdirSync(join(root, 'pxelinux.cfg'))
    symlinkSync('elsewhere', join(root, 'pxelinux.cfg/0A000005'))
    writeFileSync(join(root, 'a'), 'a')
    applyBootFiles(root, [
      { files: [], remove: [], symlinks: [{ path: 'pxelinux.cfg/0A000005', target: 'n1' }], hardlinks: [{ path: 'b', target: 'a' }] },
      { files: [], remove: [], symlinks: [], hardlinks: [{ path: 'b', target: 'a' }] },
    ])
    expect(readlinkSync(join(root, 'pxelinux.cfg/0A000005'))).to.equal('n1')
    expect(statSync(join(root, 'b')).ino).to.equal(statSync(join(root, 'a')).ino)
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).to.deep.equal([])
  })

  it('carries on past a failure and reports it', () => {
    const sets: BootFiles[] = [
      { files: [], remove: [], symlinks: [], hardlinks: [{ path: 'x', target: 'missing' }] },
      { files: [{ path: 'petitboot/n9', content: '#boot\n' }], remove: [], symlinks: [], hardlinks: [] },
    ]
    expect(() => applyBootFiles(root, sets)).to.throw(AggregateError, /1 boot file change\(s\) failed/)
    expect(readFileSync(join(root, 'petitboot/n9'), 'utf8')).to.equal('#boot\n')
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).to.deep.equal([])
  })
})

describe('applying boot files for 10,000 nodes', function () {
  this.timeout(120000)
  let root: string
  let site: SiteBootSettings

  before(() => {
    root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'boot-apply-10k-'))
    site = { tftpdir: root }
    mkdirSync(join(root, 'boot/grub2'), { recursive: true })
    writeFileSync(join(root, 'boot/grub2/grub2.x86_64'), 'grub')
  })

  after(() => rmSync(root, { recursive: true, force: true }))

  it('handles 10,000 nodes in one call', () => {
    const probe = fsBootProbe()
    const sets: BootFiles[] = []
    const loaders: BootLoader[] = ['xnba', 'pxe', 'grub2']
    for (let i = 0; i < 10000; i++) {
      const ip = `10.1.${i >> 8}.${i & 255}`
      const mac = `52:54:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`
      const info = nodeInfo('sysclone', { node: `cn${i}`, ip, macs: [mac] })
      sets.push(renderXnba(info, site, probe), renderPxe(info, site, probe), renderGrub2(info, site, probe))
    }
    applyBootFiles(root, sets)
    expect(readdirSync(join(root, 'xcat/xnba/nodes'))).to.have.length(30000)
    expect(readdirSync(join(root, 'pxelinux.cfg'))).to.have.length(20000)
    expect(readdirSync(join(root, 'boot/grub2'))).to.have.length(40001)
    for (const i of [0, 4711, 9999]) {
      for (const loader of loaders) expect(bootState(root, loader, `cn${i}`)).to.equal('sysclone rhels9.4-x86_64')
    }
    expect(readFileSync(join(root, bootConfigPath('pxe', 'cn4711')), 'utf8')).to.include('KERNEL xcat/genesis.kernel.x86_64\n')
    expect(readlinkSync(join(root, 'pxelinux.cfg/0A01125F'))).to.equal('cn4703')
    expect(statSync(join(root, 'boot/grub2/grub.cfg-0A01125F')).ino).to.equal(statSync(join(root, 'boot/grub2/cn4703')).ino)
    const again = sets.filter((_s, i) => i % 3 === 2)
    applyBootFiles(root, again)
    expect(readdirSync(join(root, 'boot/grub2'))).to.have.length(40001)
    for (const dir of ['xcat/xnba/nodes', 'pxelinux.cfg', 'boot/grub2']) {
      expect(readdirSync(join(root, dir)).filter((n) => n.startsWith('.'))).to.deep.equal([])
    }
  })
})
